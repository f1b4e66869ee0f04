// Rules kept beside examples/analyze-evidence.yaml, which names this
// directory (rules: [rules]); every *.yar and *.yara file here is used,
// each in its own namespace.

rule reverse_shell_one_liner
{
    meta:
        description = "shell one-liners that connect a shell to a remote host"
    strings:
        $bash_tcp = "/dev/tcp/" ascii wide
        $nc_e = /\bnc(at)? [^\n]{0,64}-e \/bin\/(ba)?sh/ ascii
        $py_pty = "pty.spawn(\"/bin/" ascii
    condition:
        any of them
}

rule xmrig_miner
{
    meta:
        description = "the XMRig miner's strings"
    strings:
        $a = "xmrig" ascii wide nocase fullword
        $b = "stratum+tcp://" ascii wide
        $c = "donate-level" ascii
    condition:
        2 of them
}
