// Package web holds convnet serve's page: one HTML file with its styles
// and script inline, embedded in the binary, loading nothing from
// elsewhere, so it works offline.
package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

//go:embed index.html
var index []byte

// Page returns the page for the model named name: index.html with the
// placeholder "__MODEL__" (inside a script string) replaced by name,
// JSON-escaped.
func Page(name string) []byte {
	q, _ := json.Marshal(name) // a string always encodes
	return bytes.ReplaceAll(index, []byte(`"__MODEL__"`), q)
}
