package engine

// SecretEnvNames returns the environment variable names that values (a
// step's `with`, evaluated) give to parameters declared secretenv, keys of
// nested maps included, each mapped to the parameter that names it
// ("key_passphrase_env", "jump.key_passphrase_env"). Values that are not
// non-empty strings are left out. It changes nothing.
func SecretEnvNames(decl []Param, values map[string]any) map[string]string {
	out := map[string]string{}
	secretEnvNames(decl, values, "", out)
	return out
}

func secretEnvNames(decl []Param, values map[string]any, prefix string, out map[string]string) {
	for _, p := range decl {
		v, ok := values[p.Name]
		if !ok {
			continue
		}
		switch {
		case p.SecretEnv:
			if s, ok := v.(string); ok && s != "" {
				if _, seen := out[s]; !seen {
					out[s] = prefix + p.Name
				}
			}
		case len(p.fields) > 0:
			if m, ok := v.(map[string]any); ok {
				secretEnvNames(p.fields, m, prefix+p.Name+".", out)
			}
		}
	}
}

// HasSecretEnv reports whether decl declares a secretenv parameter, at any
// depth.
func HasSecretEnv(decl []Param) bool {
	for _, p := range decl {
		if p.SecretEnv || HasSecretEnv(p.fields) {
			return true
		}
	}
	return false
}
