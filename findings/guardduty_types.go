package findings

// Family is a family of GuardDuty finding types, by the resource they
// concern, with the types GuardDuty's documentation lists for it.
type Family struct {
	Name  string
	Types []string
	// Gaps say why the types a glob matches have no playbook, where
	// none of firebreak's does; a type without a playbook and without a
	// gap is uncovered without a reason, which a test refuses.
	Gaps []Gap
}

// Gap is why the types matching Glob are not answered.
type Gap struct {
	Glob string
	Why  string
}

// GuardDutyFamilies are GuardDuty's finding types, as its documentation
// lists them by resource (a snapshot: GuardDuty adds types; an unknown
// type is still answered by any playbook whose globs match it).
var GuardDutyFamilies = []Family{
	{Name: "EC2", Types: []string{
		"Backdoor:EC2/C&CActivity.B", "Backdoor:EC2/C&CActivity.B!DNS", "Backdoor:EC2/DenialOfService.Dns", "Backdoor:EC2/DenialOfService.Tcp",
		"Backdoor:EC2/DenialOfService.Udp", "Backdoor:EC2/DenialOfService.UdpOnTcpPorts", "Backdoor:EC2/DenialOfService.UnusualProtocol",
		"Backdoor:EC2/Spambot", "Behavior:EC2/NetworkPortUnusual", "Behavior:EC2/TrafficVolumeUnusual", "CryptoCurrency:EC2/BitcoinTool.B",
		"CryptoCurrency:EC2/BitcoinTool.B!DNS", "DefenseEvasion:EC2/UnusualDNSResolver", "DefenseEvasion:EC2/UnusualDoHActivity",
		"DefenseEvasion:EC2/UnusualDoTActivity", "Impact:EC2/AbusedDomainRequest.Reputation", "Impact:EC2/BitcoinDomainRequest.Reputation",
		"Impact:EC2/MaliciousDomainRequest.Custom", "Impact:EC2/MaliciousDomainRequest.Reputation", "Impact:EC2/PortSweep",
		"Impact:EC2/SuspiciousDomainRequest.Reputation", "Impact:EC2/WinRMBruteForce", "Recon:EC2/PortProbeEMRUnprotectedPort",
		"Recon:EC2/PortProbeUnprotectedPort", "Recon:EC2/Portscan", "Trojan:EC2/BlackholeTraffic", "Trojan:EC2/BlackholeTraffic!DNS",
		"Trojan:EC2/DGADomainRequest.B", "Trojan:EC2/DGADomainRequest.C!DNS", "Trojan:EC2/DNSDataExfiltration", "Trojan:EC2/DriveBySourceTraffic!DNS",
		"Trojan:EC2/DropPoint", "Trojan:EC2/DropPoint!DNS", "Trojan:EC2/PhishingDomainRequest!DNS", "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom",
		"UnauthorizedAccess:EC2/MetadataDNSRebind", "UnauthorizedAccess:EC2/RDPBruteForce", "UnauthorizedAccess:EC2/SSHBruteForce",
		"UnauthorizedAccess:EC2/TorClient", "UnauthorizedAccess:EC2/TorRelay",
	}, Gaps: []Gap{
		{"Behavior:EC2/*", "an anomaly of traffic, not a compromise: triage first, then run host-compromise by hand"},
		{"DefenseEvasion:EC2/*", "an unusual DNS path: triage first (a VPN or a developer tool gives the same), then host-compromise by hand"},
		{"Recon:EC2/*", "the instance is probed, not compromised: close the port (assess finds open ones); isolating it would answer the prober"},
	}},
	{Name: "Malware Protection for EC2", Types: []string{"Execution:EC2/MaliciousFile"}},
	{Name: "Runtime Monitoring (on an instance)", Types: []string{
		"Backdoor:Runtime/C&CActivity.B", "Backdoor:Runtime/C&CActivity.B!DNS", "CryptoCurrency:Runtime/BitcoinTool.B",
		"CryptoCurrency:Runtime/BitcoinTool.B!DNS", "DefenseEvasion:Runtime/FilelessExecution", "DefenseEvasion:Runtime/ProcessInjection.Proc",
		"DefenseEvasion:Runtime/SuspiciousCommand", "Discovery:Runtime/SuspiciousCommand", "Execution:Runtime/MaliciousFileExecuted",
		"Execution:Runtime/NewBinaryExecuted", "Execution:Runtime/NewLibraryLoaded", "Execution:Runtime/ReverseShell",
		"Execution:Runtime/SuspiciousCommand", "Execution:Runtime/SuspiciousTool", "Impact:Runtime/CryptoMinerExecuted",
		"Persistence:Runtime/SuspiciousCommand", "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory", "PrivilegeEscalation:Runtime/DockerSocketAccessed",
		"PrivilegeEscalation:Runtime/RuncContainerEscape", "Trojan:Runtime/BlackholeTraffic", "Trojan:Runtime/DropPoint",
		"UnauthorizedAccess:Runtime/MetadataDNSRebind", "UnauthorizedAccess:Runtime/TorClient", "UnauthorizedAccess:Runtime/TorRelay",
	}},
	{Name: "IAM (access keys of users and roles)", Types: []string{
		"CredentialAccess:IAMUser/AnomalousBehavior", "DefenseEvasion:IAMUser/AnomalousBehavior", "DefenseEvasion:IAMUser/BedrockLoggingDisabled",
		"Discovery:IAMUser/AnomalousBehavior", "Exfiltration:IAMUser/AnomalousBehavior", "Impact:IAMUser/AnomalousBehavior",
		"InitialAccess:IAMUser/AnomalousBehavior", "PenTest:IAMUser/KaliLinux", "PenTest:IAMUser/ParrotLinux", "PenTest:IAMUser/PentooLinux",
		"Persistence:IAMUser/AnomalousBehavior", "Policy:IAMUser/RootCredentialUsage", "Policy:IAMUser/ShortTermRootCredentialUsage",
		"PrivilegeEscalation:IAMUser/AnomalousBehavior", "Recon:IAMUser/MaliciousIPCaller", "Recon:IAMUser/MaliciousIPCaller.Custom",
		"Recon:IAMUser/TorIPCaller", "Stealth:IAMUser/CloudTrailLoggingDisabled", "Stealth:IAMUser/PasswordPolicyChange",
		"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
		"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
		"UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom", "UnauthorizedAccess:IAMUser/TorIPCaller",
	}, Gaps: []Gap{
		{"Policy:IAMUser/*RootCredentialUsage", "the account's root user: no session policy binds it; secure it by hand (MFA, no keys)"},
		{"Stealth:IAMUser/PasswordPolicyChange", "an account setting, not a principal to contain: put the password policy back by hand"},
		{"UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B", "a console session, no access key: revoke-sessions with user_name by hand"},
	}},
	{Name: "S3 Protection", Types: []string{
		"Discovery:S3/AnomalousBehavior", "Discovery:S3/MaliciousIPCaller", "Discovery:S3/MaliciousIPCaller.Custom", "Discovery:S3/TorIPCaller",
		"Exfiltration:S3/AnomalousBehavior", "Exfiltration:S3/MaliciousIPCaller", "Impact:S3/AnomalousBehavior.Delete",
		"Impact:S3/AnomalousBehavior.Permission", "Impact:S3/AnomalousBehavior.Write", "Impact:S3/MaliciousIPCaller", "PenTest:S3/KaliLinux",
		"PenTest:S3/ParrotLinux", "PenTest:S3/PentooLinux", "Policy:S3/AccountBlockPublicAccessDisabled", "Policy:S3/BucketAnonymousAccessGranted",
		"Policy:S3/BucketBlockPublicAccessDisabled", "Policy:S3/BucketPublicAccessGranted", "Stealth:S3/ServerAccessLoggingDisabled",
		"UnauthorizedAccess:S3/MaliciousIPCaller.Custom", "UnauthorizedAccess:S3/TorIPCaller",
	}, Gaps: []Gap{
		{"Policy:S3/AccountBlockPublicAccessDisabled", "an account setting, no bucket: turn the account's Block Public Access back on by hand (assess checks it)"},
	}},
	{Name: "Malware Protection for S3", Types: []string{"Object:S3/MaliciousFile"}, Gaps: []Gap{
		{"Object:S3/*", "one object, not a bucket: quarantine it (tag, move, lock) by hand; contain-bucket would close the whole bucket"},
	}},
	{Name: "Lambda Protection", Types: []string{
		"Backdoor:Lambda/C&CActivity.B", "CryptoCurrency:Lambda/BitcoinTool.B", "Trojan:Lambda/BlackholeTraffic", "Trojan:Lambda/DropPoint",
		"UnauthorizedAccess:Lambda/MaliciousIPCaller.Custom", "UnauthorizedAccess:Lambda/TorClient", "UnauthorizedAccess:Lambda/TorRelay",
	}},
	{Name: "RDS Protection", Types: []string{
		"CredentialAccess:RDS/AnomalousBehavior.FailedLoginAttempts", "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
		"CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin", "CredentialAccess:RDS/MaliciousIPCaller.FailedLoginAttempts",
		"CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin", "CredentialAccess:RDS/TorIPCaller.FailedLoginAttempts",
		"CredentialAccess:RDS/TorIPCaller.SuccessfulLogin", "Discovery:RDS/MaliciousIPCaller", "Discovery:RDS/TorIPCaller",
	}},
	{Name: "EKS Protection (Kubernetes audit logs)", Types: []string{
		"CredentialAccess:Kubernetes/MaliciousIPCaller", "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess", "DefenseEvasion:Kubernetes/TorIPCaller",
		"Discovery:Kubernetes/SuccessfulAnonymousAccess", "Execution:Kubernetes/ExecInKubeSystemPod", "Impact:Kubernetes/MaliciousIPCaller",
		"Persistence:Kubernetes/ContainerWithSensitiveMount", "Policy:Kubernetes/AdminAccessToDefaultServiceAccount",
		"Policy:Kubernetes/AnonymousAccessGranted", "PrivilegeEscalation:Kubernetes/PrivilegedContainer",
	}, Gaps: []Gap{
		{"*:Kubernetes/*", "containment is in the Kubernetes API (cordon, network policy, RBAC), which firebreak does not speak"},
	}},
	{Name: "Malware Protection for containers", Types: []string{"Execution:ECS/MaliciousFile", "Execution:Kubernetes/MaliciousFile", "Execution:Container/MaliciousFile"}, Gaps: []Gap{
		{"Execution:*/MaliciousFile", "a task or a pod, not an instance: stop or isolate it through ECS or Kubernetes"},
	}},
	{Name: "Attack sequences", Types: []string{"AttackSequence:IAM/CompromisedCredentials", "AttackSequence:S3/CompromisedData", "AttackSequence:EKS/CompromisedCluster",
		"AttackSequence:ECS/CompromisedCluster", "AttackSequence:EC2/CompromisedInstanceGroup"}, Gaps: []Gap{
		{"AttackSequence:*/*", "a sequence spans many resources: answer each of its signals (each is a finding of a family above)"},
	}},
}
