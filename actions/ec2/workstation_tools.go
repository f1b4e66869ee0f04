package ec2

// analysisToolsUserData is the workstation's first-boot script: it installs
// the tools analyze-disk and analyze-memory run there (The Sleuth Kit's
// mmls and fls, yara) with the image's package manager, and says on the
// console whether they are there, since the workstation's own VPC has no
// internet and a mirror may not be reachable. It changes nothing else.
const analysisToolsUserData = `#!/bin/sh
# firebreak create-workstation: tools for analyze-disk and analyze-memory.
log=/var/log/firebreak-analysis-tools.log
{
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update && apt-get install -y sleuthkit yara
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y sleuthkit yara
  elif command -v yum >/dev/null 2>&1; then
    yum install -y sleuthkit yara
  fi
} >>"$log" 2>&1
missing=""
for t in mmls fls yara; do
  command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
  msg="firebreak: analysis tools missing:$missing (install sleuthkit and yara; see $log)"
else
  msg="firebreak: analysis tools installed (sleuthkit, yara)"
fi
echo "$msg" >>"$log"
echo "$msg" >/dev/console 2>/dev/null || true
`
