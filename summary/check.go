package summary

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/convnet-go/convnet/internal/atomicfile"
)

// MaxEventFileSize bounds the event files ReadFile, and so ReadRun, reads
// (each is read whole into memory).
const MaxEventFileSize = 1 << 30

// RunFile is one event file of a log directory: its path, the run
// TensorBoard names it by (its directory relative to the log directory,
// "." for the log directory itself) and its events.
type RunFile struct {
	Path   string
	Run    string
	Size   int64
	Events []Event
}

// ReadRun finds every event file (events.out.tfevents.*) under logdir and
// decodes it with ReadFile, verifying every record's CRCs. Files come
// sorted by run, then by name (which starts with the creation time). It
// fails when logdir holds no event file, when one is larger than
// MaxEventFileSize, or on the first file that does not decode.
func ReadRun(logdir string) ([]RunFile, error) {
	st, err := os.Stat(logdir)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("summary: %s is not a directory; give the log directory of a run", logdir)
	}
	var files []RunFile
	err = filepath.WalkDir(logdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), "events.out.tfevents.") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		run, err := filepath.Rel(logdir, filepath.Dir(path))
		if err != nil {
			return err
		}
		files = append(files, RunFile{Path: path, Run: filepath.ToSlash(run), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("summary: %v", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("summary: no event files (events.out.tfevents.*) under %s", logdir)
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].Run != files[j].Run {
			return files[i].Run < files[j].Run
		}
		return files[i].Path < files[j].Path
	})
	for i := range files {
		if files[i].Events, err = ReadFile(files[i].Path); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// series is what Report gathers about one tag of one run.
type series struct {
	kind        string
	plugin      string
	n           int
	first, last int64
	lastScalar  float32
	image       *Image
	text        string
	hparams     *HParamsData
}

// Report writes what TensorBoard shows for files, run by run: each event
// file with its size and event count, each tag with its kind (scalar,
// histogram, image, text, hparams), its number of points, first and last
// step and last value (an image's size, checked against its PNG header),
// and every node of the graph (name, op, inputs, output shapes). It fails
// when an image's PNG does not decode or disagrees with its stated size,
// or when a graph input names no node.
func Report(w io.Writer, files []RunFile) error {
	var problems []error
	for _, f := range files {
		fmt.Fprintf(w, "run %s: %s (%d bytes, %d events)\n", f.Run, filepath.Base(f.Path), f.Size, len(f.Events))
		tags := map[string]*series{}
		var order []string
		var graph *GraphDef
		for _, e := range f.Events {
			if e.Graph != nil {
				graph = e.Graph
			}
			for _, v := range e.Values {
				s := tags[v.Tag]
				if s == nil {
					s = &series{first: e.Step}
					tags[v.Tag] = s
					order = append(order, v.Tag)
				}
				s.n++
				s.last = e.Step
				if v.Metadata != nil && v.Metadata.PluginName != "" {
					s.plugin = v.Metadata.PluginName
				}
				switch v.Kind {
				case KindScalar:
					s.kind, s.lastScalar = "scalar", v.Simple
				case KindHistogram:
					s.kind = "histogram"
				case KindImage:
					s.kind, s.image = "image", v.Image
					if err := checkPNG(v.Image); err != nil {
						problems = append(problems, fmt.Errorf("%s: tag %s at step %d: %v", f.Path, v.Tag, e.Step, err))
					}
				case KindTensor:
					s.kind = "tensor"
					if s.plugin == PluginText && v.Tensor != nil && len(v.Tensor.Strings) > 0 {
						s.text = string(v.Tensor.Strings[0])
					}
				}
				if s.plugin == PluginHParams && v.Metadata != nil {
					d, err := DecodeHParams(v.Metadata.Content)
					if err != nil {
						problems = append(problems, fmt.Errorf("%s: tag %s: hparams: %v", f.Path, v.Tag, err))
					}
					s.hparams = &d
				}
			}
		}
		for _, tag := range order {
			s := tags[tag]
			kind := s.kind
			if s.plugin != "" {
				kind = s.plugin
			}
			fmt.Fprintf(w, "  %-10s %-28s %3d× steps %d…%d", kind, tag, s.n, s.first, s.last)
			switch {
			case s.kind == "scalar":
				fmt.Fprintf(w, "  last %.6g", s.lastScalar)
			case s.kind == "image":
				fmt.Fprintf(w, "  %d×%d PNG, colorspace %d, %d bytes", s.image.Width, s.image.Height, s.image.Colorspace, len(s.image.Encoded))
			case s.plugin == PluginText:
				fmt.Fprintf(w, "  %d lines of text", strings.Count(strings.TrimRight(s.text, "\n"), "\n")+1)
			case s.hparams != nil:
				fmt.Fprintf(w, "  %s", describeHParams(s.hparams))
			}
			fmt.Fprintln(w)
		}
		if graph != nil {
			fmt.Fprintf(w, "  graph      %d nodes (GraphDef producer %d)\n", len(graph.Nodes), graph.Producer)
			names := map[string]bool{}
			for _, n := range graph.Nodes {
				names[n.Name] = true
			}
			for _, n := range graph.Nodes {
				in := strings.Join(n.Inputs, ",")
				if in == "" {
					in = "-"
				}
				shapes := "-"
				if a, ok := n.Attr["_output_shapes"]; ok {
					shapes = a.String()
				}
				fmt.Fprintf(w, "    %s  %s  %s  %s\n", n.Name, n.Op, in, shapes)
				for _, i := range n.Inputs {
					src := strings.TrimPrefix(i, "^")
					if k := strings.LastIndexByte(src, ':'); k > 0 {
						src = src[:k]
					}
					if !names[src] {
						problems = append(problems, fmt.Errorf("%s: graph node %s reads %q, which is not a node", f.Path, n.Name, i))
					}
				}
			}
		}
	}
	return errors.Join(problems...)
}

// describeHParams formats an hparams record on one line.
func describeHParams(d *HParamsData) string {
	switch d.Kind {
	case "experiment":
		var ms []string
		for _, m := range d.Metrics {
			ms = append(ms, m.Group+"/"+m.Tag)
		}
		return "experiment, metrics " + strings.Join(ms, ", ")
	case "session_start_info":
		keys := make([]string, 0, len(d.HParams))
		for k := range d.HParams {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, fmt.Sprintf("%s=%v", k, d.HParams[k]))
		}
		return "session start: " + strings.Join(kv, " ")
	case "session_end_info":
		status := map[SessionStatus]string{StatusSuccess: "success", StatusFailure: "failure"}[d.Status]
		if status == "" {
			status = fmt.Sprintf("status %d", d.Status)
		}
		return "session end: " + status
	}
	return "unknown hparams record"
}

// checkPNG decodes the header of img's PNG and compares its size with
// the stated one.
func checkPNG(img *Image) error {
	if img == nil {
		return errors.New("image value without an image")
	}
	c, err := png.DecodeConfig(bytes.NewReader(img.Encoded))
	if err != nil {
		return fmt.Errorf("PNG does not decode: %v", err)
	}
	if int32(c.Width) != img.Width || int32(c.Height) != img.Height {
		return fmt.Errorf("PNG is %d×%d but the summary says %d×%d", c.Width, c.Height, img.Width, img.Height)
	}
	return nil
}

// SaveLastImages writes the last image of every image tag of files into
// dir as <run>_<tag>.png ("/" and "." in run and tag become "_"), and the
// last graph of each run as <run>_graph.png drawn by GraphImage, each
// through a temporary file and a rename, and returns the paths written.
func SaveLastImages(files []RunFile, dir string) ([]string, error) {
	last := map[string]*Image{}
	var names []string
	for _, f := range files {
		for _, e := range f.Events {
			if e.Graph != nil {
				gi := GraphImage(e.Graph)
				var b bytes.Buffer
				if err := png.Encode(&b, gi); err != nil {
					return nil, fmt.Errorf("summary: %v", err)
				}
				name := strings.TrimPrefix(strings.NewReplacer("/", "_", ".", "_").Replace(f.Run+"_graph"), "__") + ".png"
				if _, ok := last[name]; !ok {
					names = append(names, name)
				}
				r := gi.Bounds()
				last[name] = &Image{Width: int32(r.Dx()), Height: int32(r.Dy()), Colorspace: 4, Encoded: b.Bytes()}
			}
			for _, v := range e.Values {
				if v.Kind != KindImage || v.Image == nil {
					continue
				}
				name := strings.NewReplacer("/", "_", ".", "_").Replace(f.Run+"_"+v.Tag) + ".png"
				name = strings.TrimPrefix(name, "__")
				if _, ok := last[name]; !ok {
					names = append(names, name)
				}
				last[name] = v.Image
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("summary: %v", err)
	}
	var paths []string
	for _, name := range names {
		if err := checkPNG(last[name]); err != nil {
			return paths, fmt.Errorf("summary: %s: %v", name, err)
		}
		path := filepath.Join(dir, name)
		if err := atomicfile.WriteBytes(path, last[name].Encoded); err != nil {
			return paths, fmt.Errorf("summary: %v", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
