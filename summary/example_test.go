package summary_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

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

// Write a two-node graph and a run's hyperparameters, then print what
// TensorBoard will show, as `convnet tensorboard-check` does.
func ExampleReport() {
	dir, err := os.MkdirTemp("", "summary-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	w, err := summary.NewWriter(dir)
	if err != nil {
		log.Fatal(err)
	}
	out := summary.AttrValue{Kind: summary.AttrShapes, Shapes: [][]int64{{-1, 10}}}
	w.Graph(&summary.GraphDef{Producer: summary.GraphProducer, Nodes: []summary.NodeDef{
		{Name: "data/x", Op: "Placeholder", Attr: map[string]summary.AttrValue{"_output_shapes": out}},
		{Name: "logits/Softmax", Op: "Softmax", Inputs: []string{"data/x"}, Attr: map[string]summary.AttrValue{"_output_shapes": out}},
	}})
	w.HParamsSessionStart([]summary.HParam{{Name: "lr", Value: 0.001}, {Name: "optimizer", Value: "adam"}}, time.Unix(0, 0))
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	files, err := summary.ReadRun(dir)
	if err != nil {
		log.Fatal(err)
	}
	files[0].Path = "events.out.tfevents.0.host.1" // the real name holds the time and host
	if err := summary.Report(os.Stdout, files); err != nil {
		log.Fatal(err)
	}
	// Output:
	// run .: events.out.tfevents.0.host.1 (356 bytes, 3 events)
	//   hparams    _hparams_/session_start_info   1× steps 0…0  session start: lr=0.001 optimizer=adam
	//   graph      2 nodes (GraphDef producer 134)
	//     data/x  Placeholder  -  [-1,10]
	//     logits/Softmax  Softmax  data/x  [-1,10]
}
