package api

import (
	"net/http"

	swaggerfiles "github.com/swaggo/files/v2"
)

// The reference at /docs is Swagger UI, whose assets come embedded in the
// github.com/swaggo/files/v2 module: the page loads nothing from the
// network, so it renders on an air-gapped machine.
const docsIndex = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Purser API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/purser-init.js"></script>
</body>
</html>
`

const docsInit = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api-docs.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    validatorUrl: null
  });
};
`

func serveDocsIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	_, _ = w.Write([]byte(docsIndex))
}

func docsAssets() http.Handler {
	files := http.StripPrefix("/docs/", http.FileServerFS(swaggerfiles.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/docs/purser-init.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write([]byte(docsInit))
		case "/docs/", "/docs/index.html":
			serveDocsIndex(w, r)
		default:
			files.ServeHTTP(w, r)
		}
	})
}
