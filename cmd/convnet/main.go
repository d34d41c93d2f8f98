// Command convnet trains, evaluates and runs the convolutional networks of
// the convnet library, and applies convolution kernels to images.
//
//	convnet train     train the lecture's MNIST convnet
//	convnet eval      test accuracy and confusion matrix of a checkpoint
//	convnet predict   classify digit images with a checkpoint, or run a model (ONNX, Keras, TF.js, checkpoint) on a .npy tensor
//	convnet serve     serve a checkpoint over HTTP (Open Inference Protocol) with a web page
//	convnet export    write a checkpoint's model as ONNX or as a Keras model directory
//	convnet filter    convolve images with blur, sharpen, edge, sobel, … kernels
//	convnet shape     print a model's layer-by-layer output shapes
//	convnet bench     time the lecture model's training step and inference
//	convnet tensorboard-check  print what TensorBoard shows for a run
//	convnet version   print the module version and build settings
//
// Run "convnet help COMMAND" for a command's flags. Exit codes: 0 success,
// 1 failure, 2 bad usage or bad input, 130 interrupted.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
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

// setUsage gives fs a usage text: the synopsis line, a description and
// the flags, written to the flag set's output.
func setUsage(fs *flag.FlagSet, synopsis, description string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nflags:\n", synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
}

// wantsHelp reports whether args ask for help (-h, -help or --help before
// any "--"), which is printed to stdout.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
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
	switch {
	case len(args) == 0:
		usage(stderr)
		return 2
	case args[0] == "help" && len(args) == 1, args[0] == "-h", args[0] == "-help", args[0] == "--help":
		usage(stdout)
		return 0
	case args[0] == "help" && len(args) > 2:
		fmt.Fprintf(stderr, "convnet help: want one command name, got %q\n", args[1:])
		return 2
	case args[0] == "help":
		args = []string{args[1], "-h"}
	case args[0] == "version" || args[0] == "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "convnet version: unexpected arguments %q (version takes none)\n", args[1:])
			return 2
		}
		version(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "convnet: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	cmdStderr := stderr
	if wantsHelp(args[1:]) {
		cmdStderr = stdout // asked-for help is output, not a diagnostic
	}
	err := c.run(args[1:], stdout, cmdStderr)
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
	names = append(names, "version")
	sort.Strings(names)
	for _, n := range names {
		summary := commands[n].summary
		if n == "version" {
			summary = "print the module version and build settings"
		}
		fmt.Fprintf(w, "  %-9s %s\n", n, summary)
	}
	fmt.Fprintln(w, "\nRun \"convnet help COMMAND\" for a command's flags.")
}

// version prints the module's version, the Go version and the VCS
// settings recorded in the binary (runtime/debug.ReadBuildInfo).
func version(w io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(w, "convnet (no build information in this binary)")
		return
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	fmt.Fprintf(w, "convnet %s %s\n", bi.Main.Path, v)
	fmt.Fprintf(w, "%-11s %s\n", "go", bi.GoVersion)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "GOAMD64", "CGO_ENABLED", "-tags":
			fmt.Fprintf(w, "%-11s %s\n", strings.TrimPrefix(s.Key, "vcs."), s.Value)
		}
	}
}
