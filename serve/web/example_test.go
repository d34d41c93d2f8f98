package web_test

import (
	"bytes"
	"fmt"

	"github.com/convnet-go/convnet/serve/web"
)

func ExamplePage() {
	page := web.Page("convnet")
	fmt.Println(bytes.Contains(page, []byte(`const MODEL = "convnet";`)))
	// The name is JSON-escaped, so it cannot end the script.
	fmt.Println(bytes.Contains(web.Page("</script>"), []byte(`const MODEL = "\u003c/script\u003e";`)))
	// Output:
	// true
	// true
}
