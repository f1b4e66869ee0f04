package awsapi

import (
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IsUnanswered reports whether err is an HTTP 500 whose body is not an AWS
// error document at all. moto_server answers so (an HTML "Internal Server
// Error" page) for an action it does not implement, where IsNotImplemented
// sees nothing to go by. Real AWS answers its 500s with an error document,
// but a proxy in the way may not: use this only for optional read-only
// calls, where taking a real fault for a gap loses only that call.
//
// JSON-protocol services (CloudTrail, Lambda) fail such a page in their
// JSON decoder rather than an XML one: that counts too.
func IsUnanswered(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		return false
	}
	var se *xml.SyntaxError
	var de *smithy.DeserializationError
	return errors.As(err, &se) || errors.As(err, &de)
}
