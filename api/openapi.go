package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of the API (CONTRACT 3.11), api/openapi.json in the
// repository. TestOpenAPI checks it against the routes and the wire types, and writes it anew
// with -update.
//
//go:embed openapi.json
var openAPI []byte

// PublicRoutes are the routes Handler serves without the role check of Routes: health,
// readiness, metrics (which check a token themselves when one is configured) and this
// description.
var PublicRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json"}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
