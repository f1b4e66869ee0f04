package analysis

import (
	"context"
	"fmt"
	"strings"
)

// toolPackage names the Debian package that installs each tool.
var toolPackage = map[string]string{
	"mmls": "sleuthkit", "fls": "sleuthkit", "mactime": "sleuthkit",
	"yara": "yara",
}

// missingTool is a tool that is not installed where it must run.
type missingTool struct {
	tool  string
	where string
}

func (e *missingTool) Error() string { return missingMessage([]string{e.tool}, e.where) }

func missingMessage(tools []string, where string) string {
	pkgs := map[string]bool{}
	var list []string
	for _, t := range tools {
		if p := toolPackage[t]; p != "" && !pkgs[p] {
			pkgs[p] = true
			list = append(list, p)
		}
	}
	if len(list) == 0 {
		return fmt.Sprintf("%s not found on %s", strings.Join(tools, ", "), where)
	}
	return fmt.Sprintf("%s not found on %s: install Debian's %s (apt-get install %s)",
		strings.Join(tools, ", "), where, strings.Join(list, " and "), strings.Join(list, " "))
}

// requireTools fails, naming the packages to install, when any of tools
// is missing on h. It asks once, before anything runs, so a half-done
// analysis never stands for a missing package.
func requireTools(ctx context.Context, h host, tools ...string) error {
	missing, err := h.missing(ctx, tools)
	if err != nil {
		return fmt.Errorf("checking for %s on %s: %w", strings.Join(tools, ", "), h.where(), err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s", missingMessage(missing, h.where()))
	}
	return nil
}
