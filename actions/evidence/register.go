// Package evidence holds the actions that work on the case's evidence store
// itself rather than on AWS: upload-log. They need no AWS client.
package evidence

import "github.com/firebreak-ir/firebreak/engine"

// Register adds every evidence action to r.
func Register(r *engine.Registry) {
	r.Register(&uploadLog{})
}
