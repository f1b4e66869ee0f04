package memory

import "github.com/firebreak-ir/firebreak/engine"

// Spec implements engine.Action. The parameter names are a contract (SPEC §5).
func (c *capture) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "capture-memory",
		Summary: "Stream a Linux host's memory over SSH (LiME, AVML or raw) to files or S3, hashed, complete or failed",
		Params: []engine.Param{
			{Name: "host", Type: engine.TypeString, Required: true, Doc: "address to SSH to"},
			{Name: "port", Type: engine.TypeInt, Default: 22, Doc: "SSH port"},
			{Name: "user", Type: engine.TypeString, Default: "ec2-user", Doc: "SSH user"},
			{Name: "key_file", Type: engine.TypeString, Doc: "private key (ed25519, ECDSA, RSA); with none, ssh-agent (SSH_AUTH_SOCK)"},
			{Name: "key_passphrase_env", Type: engine.TypeString, Doc: "name of the environment variable holding key_file's passphrase"},
			{Name: "jump", Type: engine.TypeMap, Doc: "bastion: {host, port, user, key_file, key_passphrase_env, host_key, known_hosts, insecure_host_key}"},
			{Name: "host_key", Type: engine.TypeString, Doc: "pinned host key fingerprint, SHA256:..."},
			{Name: "known_hosts", Type: engine.TypeString, Default: "~/.ssh/known_hosts", Doc: "known_hosts file, used when neither host_key nor console_output is given"},
			{Name: "console_output", Type: engine.TypeString, Doc: "EC2 console output holding the host key fingerprints printed at first boot"},
			{Name: "insecure_host_key", Type: engine.TypeBool, Default: false, Doc: "accept any host key (recorded in the custody log and outputs)"},
			{Name: "method", Type: engine.TypeString, Default: "lime", Enum: []string{"lime", "avml", "raw"}, Doc: "how memory is read"},
			{Name: "source", Type: engine.TypeString, Doc: "device or file for raw, e.g. /dev/crash"},
			{Name: "module_dir", Type: engine.TypeString, Doc: "local dir of LiME modules named lime-<uname -r>.ko"},
			{Name: "avml_path", Type: engine.TypeString, Doc: "local AVML binary to upload"},
			{Name: "sudo", Type: engine.TypeBool, Default: true, Doc: "prefix privileged remote commands with sudo -n"},
			{Name: "sinks", Type: engine.TypeList, Doc: "file://DIR and s3://BUCKET/PREFIX; none: the run's evidence store"},
			{Name: "compress", Type: engine.TypeString, Default: "none", Enum: []string{"none", "zstd"}, Doc: "compression of the stored image; hashes are of the uncompressed stream"},
			{Name: "stall_timeout", Type: engine.TypeDuration, Default: "60s", Doc: "no byte for this long fails the capture"},
			{Name: "expected_size", Type: engine.TypeInt, Doc: "bytes expected on the wire (LiME headers included); overrides detection"},
			{Name: "lime_port", Type: engine.TypeInt, Doc: "target-local TCP port LiME listens on (127.0.0.1 only); default random"},
			{Name: "lime_wait", Type: engine.TypeDuration, Default: "60s", Doc: "how long to wait for LiME to listen"},
			{Name: "iomem_path", Type: engine.TypeString, Default: "/proc/iomem", Doc: "where the target's RAM layout is read (for tests; leave the default)"},
			{Name: "keepalive", Type: engine.TypeDuration, Default: "15s", Doc: "SSH keepalive interval; three missed replies end the capture"},
		},
		Outputs: []engine.Output{
			{Name: "sha256", Type: engine.TypeString, Doc: "SHA-256 of the uncompressed stream"},
			{Name: "size", Type: engine.TypeInt, Doc: "bytes of the uncompressed stream"},
			{Name: "uris", Type: engine.TypeList, Doc: "one per sink"},
			{Name: "method", Type: engine.TypeString},
			{Name: "complete", Type: engine.TypeBool, Doc: "true only when every expected byte arrived"},
			{Name: "lime_ranges", Type: engine.TypeList, Doc: "{start, end} of each LiME range (inclusive end)"},
			{Name: "host_key_fingerprint", Type: engine.TypeString},
			{Name: "host_key_verified_by", Type: engine.TypeString, Doc: "pinned, console-output, known-hosts or insecure"},
			{Name: "expected_size", Type: engine.TypeInt},
			{Name: "expected_size_from", Type: engine.TypeString, Doc: "expected_size, iomem, lime-headers, stat, blockdev or meminfo (approximate)"},
		},
		Calls: []string{"s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload", "s3:AbortMultipartUpload", "s3:HeadObject", "s3:GetObject", "s3:PutObjectTagging"},
		// Loading a kernel module and running tools on the target change it.
		Mutating:    true,
		Permissions: []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObjectTagging"},
	}
}
