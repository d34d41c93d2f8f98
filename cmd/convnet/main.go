// Command convnet trains, evaluates and runs the convolutional networks of
// the convnet library, and applies convolution kernels to images.
//
//	convnet train     train the lecture's MNIST convnet
//	convnet eval      test accuracy and confusion matrix of a checkpoint
//	convnet predict   classify digit images with a checkpoint, or run a model (ONNX, Keras, TF.js, checkpoint) on a .npy tensor
//	convnet export    write a checkpoint's model as ONNX or as a Keras model directory
//	convnet filter    convolve images with blur, sharpen, edge, sobel, … kernels
//	convnet shape     print a model's layer-by-layer output shapes
//	convnet bench     time the lecture model's training step and inference
//
// Run "convnet help COMMAND" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand. run gets the arguments after the command's
// name; it returns an error to report, wrapped by exitError when the exit
// code is not 1.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; each command's file calls it from init.
func register(c command) { commands[c.name] = c }

// exitError carries an exit code with an error: 2 for bad usage or input.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns an error that exits with code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// badInput marks err as a problem with the user's input (exit code 2).
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: 2, err: err}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("convnet "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning flag errors into exit code 2 and -h into
// a clean exit.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &exitError{code: 2, err: err}
	}
	return nil
}

var errHelp = errors.New("help requested")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" && len(args) == 1 || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "help" {
		args = []string{args[1], "-h"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "convnet: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	}
	fmt.Fprintf(stderr, "convnet %s: %v\n", c.name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: convnet COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"convnet help COMMAND\" for a command's flags.")
}
