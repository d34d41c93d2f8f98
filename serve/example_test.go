package serve_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/convnet-go/convnet/serve"
)

// doubler is a Model: input "x" [-1, 3], output "y" = 2·x.
type doubler struct{}

func (doubler) Inputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "x", Datatype: serve.FP32, Shape: []int64{-1, 3}}}
}

func (doubler) Outputs() []serve.TensorSpec {
	return []serve.TensorSpec{{Name: "y", Datatype: serve.FP32, Shape: []int64{-1, 3}}}
}

func (doubler) Predict(n int, in [][]float32) ([][]float32, error) {
	y := make([]float32, len(in[0]))
	for i, v := range in[0] {
		y[i] = 2 * v
	}
	return [][]float32{y}, nil
}

func Example() {
	s, err := serve.New(doubler{}, serve.Options{Name: "doubler", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	body := `{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}`
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/doubler/infer", strings.NewReader(body)))
	fmt.Print(rec.Code, " ", rec.Body)

	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/v2/models/doubler/infer", strings.NewReader(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP16","data":[1,2,3]}]}`)))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// 200 {"model_name":"doubler","model_version":"1","outputs":[{"name":"y","shape":[2,3],"datatype":"FP32","data":[2,4,6,8,10,12]}]}
	// 400 {"error":"input \"x\" has datatype \"FP16\"; want \"FP32\""}
}
