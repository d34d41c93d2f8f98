package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/convnet-go/convnet/checkpoint"
	"github.com/convnet-go/convnet/tensor"
)

// Save a checkpoint per epoch, keeping the last two, and resume from the
// latest.
func ExampleSave() {
	dir, err := os.MkdirTemp("", "ckpt-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	for epoch := int64(1); epoch <= 3; epoch++ {
		w := tensor.Full(float32(epoch), 2, 2)
		meta := map[string]string{"epoch": fmt.Sprint(epoch)}
		if _, err := checkpoint.Save(dir, epoch*430, map[string]*tensor.Tensor{"dense/kernel": w}, meta, 2); err != nil {
			log.Fatal(err)
		}
	}
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		log.Fatal(err)
	}
	tensors, meta, err := checkpoint.Load(latest)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(latest), meta["epoch"], tensors["dense/kernel"].Shape(), tensors["dense/kernel"].Data()[0])
	names, _ := filepath.Glob(filepath.Join(dir, "ckpt-*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	// Output:
	// ckpt-1290.safetensors 3 [2 2] 3
	// ckpt-1290.safetensors
	// ckpt-860.safetensors
}
