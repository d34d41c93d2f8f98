package layers

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEQuotesExample: README.md's "Your own model" section quotes
// the body of Example_residualNetwork (the source of truth) verbatim,
// unindented by one tab, and its output; the body is at most 25 lines.
func TestREADMEQuotesExample(t *testing.T) {
	src, err := os.ReadFile("example_resnet_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	start := strings.Index(s, "func Example_residualNetwork() {\n")
	end := strings.Index(s, "\t// Output:")
	if start < 0 || end < start {
		t.Fatal("Example_residualNetwork not found")
	}
	var body []string
	for _, l := range strings.Split(strings.TrimSuffix(s[start:end], "\n"), "\n")[1:] {
		body = append(body, strings.TrimPrefix(l, "\t"))
	}
	if len(body) > 25 {
		t.Errorf("the example is %d lines, more than 25", len(body))
	}
	quote := "```go\n" + strings.Join(body, "\n") + "\n```"
	if !strings.Contains(string(readme), quote) {
		t.Errorf("README.md does not quote Example_residualNetwork as it is now:\n%s", quote)
	}
	var out []string
	for _, l := range strings.Split(s[end:], "\n")[1:] {
		if !strings.HasPrefix(l, "\t// ") {
			break
		}
		out = append(out, strings.TrimPrefix(l, "\t// "))
	}
	if printed := "```\n" + strings.Join(out, "\n") + "\n```"; len(out) == 0 || !strings.Contains(string(readme), printed) {
		t.Errorf("README.md does not show the example's output as it is now:\n%s", printed)
	}
}
