package main

import (
	"fmt"
	"io"

	"github.com/convnet-go/convnet/summary"
)

func init() {
	register(command{name: "tensorboard-check", summary: "print what TensorBoard shows for a run's event files", run: runTensorBoardCheck})
}

func runTensorBoardCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tensorboard-check", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: convnet tensorboard-check [flags] RUN\n\nReads every event file under the log directory RUN (CRC-checked) and prints its\ntags, steps, image sizes, hparams and graph nodes.\n\nflags:")
		fs.PrintDefaults()
	}
	images := fs.String("save-images", "", "also write the last image of every image tag, and a drawing of each run's graph, as PNGs into `DIR`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one log directory (e.g. runs/lecture), got %d arguments %q", fs.NArg(), fs.Args())
	}
	files, err := summary.ReadRun(fs.Arg(0))
	if err != nil {
		return badInput(err)
	}
	if err := summary.Report(stdout, files); err != nil {
		return badInput(err)
	}
	if *images != "" {
		paths, err := summary.SaveLastImages(files, *images)
		for _, p := range paths {
			fmt.Fprintln(stdout, "wrote", p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
