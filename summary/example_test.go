package summary_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/summary"
)

// Write a loss curve and a weight histogram, then read them back.
func ExampleWriter() {
	dir, err := os.MkdirTemp("", "summary-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := summary.NewWriter(filepath.Join(dir, "train"))
	if err != nil {
		log.Fatal(err)
	}
	for step := int64(0); step < 60; step += 20 {
		w.Scalar("loss", step, 2.5/float64(step+1))
	}
	w.Histogram("dense/kernel", 60, []float32{-0.5, 0, 0.25, 0.25})
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	events, err := summary.ReadFile(w.Path())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(events[0].FileVersion)
	for _, e := range events[1:] {
		v := e.Values[0]
		switch v.Kind {
		case summary.KindScalar:
			fmt.Printf("%d %s %.4f\n", e.Step, v.Tag, v.Simple)
		case summary.KindHistogram:
			fmt.Printf("%d %s n=%v min=%v max=%v\n", e.Step, v.Tag, v.Histo.Num, v.Histo.Min, v.Histo.Max)
		}
	}
	// Output:
	// brain.Event:2
	// 0 loss 2.5000
	// 20 loss 0.1190
	// 40 loss 0.0610
	// 60 dense/kernel n=4 min=-0.5 max=0.25
}
