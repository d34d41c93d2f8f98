package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// shapeRow finds the table row of layer name and returns its fields.
func shapeRow(t *testing.T, out, name string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no %q row in\n%s", name, out)
	return nil
}

func TestShapeLectureModel(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"shape"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	// The lecture's sizes: 28 → 28 (SAME, P = 2) → 14 (pool 2/2) → 14 → 7,
	// flattened to 7·7·64 = 3136; parameters k·k·C·K + K and in·out + out.
	for _, tc := range []struct {
		layer, shape, rule string
		params             int
	}{
		{"input", "28x28x1", "", 0},
		{"conv1", "28x28x32", "(28 − 5 + 2·2)/1 + 1 = 28", 5*5*1*32 + 32},
		{"pool1", "14x14x32", "(28 − 2 + 2·0)/2 + 1 = 14", 0},
		{"conv2", "14x14x64", "(14 − 5 + 2·2)/1 + 1 = 14", 5*5*32*64 + 64},
		{"pool2", "7x7x64", "(14 − 2 + 2·0)/2 + 1 = 7", 0},
		{"flatten", "3136", "7·7·64 = 3136", 0},
		{"fc", "1024", "", 3136*1024 + 1024},
		{"dropout", "1024", "", 0},
		{"logits", "10", "", 1024*10 + 10},
	} {
		t.Run(tc.layer, func(t *testing.T) {
			f := shapeRow(t, s, tc.layer)
			if !strings.Contains(strings.Join(f, " "), " "+tc.shape+" ") {
				t.Errorf("%s row %q lacks output %s", tc.layer, f, tc.shape)
			}
			row := strings.Join(f, " ")
			if tc.rule != "" && !strings.Contains(row, tc.rule) {
				t.Errorf("%s row %q lacks rule %q", tc.layer, row, tc.rule)
			}
			if last := f[len(f)-1]; last != fmt.Sprint(tc.params) {
				t.Errorf("%s parameters %s; want %d", tc.layer, last, tc.params)
			}
		})
	}
	total := 5*5*1*32 + 32 + 5*5*32*64 + 64 + 3136*1024 + 1024 + 1024*10 + 10
	if f := shapeRow(t, s, "total"); f[len(f)-1] != fmt.Sprint(total) {
		t.Errorf("total %v; want %d", f, total)
	}
}

func TestShapeOneLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		out    string
		rule   string // the height line's rule
		params int
	}{
		// The lecture's (CS231n's) example: 7x7 input, 3x3 filter, pad 0.
		{"stride 1 pad 0", []string{"--input", "7x7x1", "--kernel", "3", "--padding", "0", "--filters", "1"}, "5x5x1", "(7 − 3 + 2·0)/1 + 1 = 5", 3*3 + 1},
		{"stride 2 pad 0", []string{"--input", "7x7x1", "--kernel", "3", "--stride", "2", "--padding", "0", "--filters", "1"}, "3x3x1", "(7 − 3 + 2·0)/2 + 1 = 3", 3*3 + 1},
		{"lecture conv1", []string{"--input", "28x28x1"}, "28x28x32", "(28 − 5 + 2·2)/1 + 1 = 28", 5*5*32 + 32},
		// TF SAME with an even window: 3 cells of padding, the odd one after.
		{"even kernel SAME", []string{"--kernel", "4", "--filters", "8"}, "28x28x8", "(28 − 4 + 1 + 2)/1 + 1 = 28", 4*4*8 + 8},
		{"SAME stride 2 odd input", []string{"--input", "15x9x3", "--kernel", "3x1", "--stride", "2", "--filters", "2"}, "8x5x2", "(15 − 3 + 2·1)/2 + 1 = 8", 3*1*3*2 + 2},
		{"VALID", []string{"--input", "32x32x3", "--padding", "valid", "--filters", "6"}, "28x28x6", "(32 − 5 + 2·0)/1 + 1 = 28", 5*5*3*6 + 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(append([]string{"shape"}, tc.args...), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			s := out.String()
			if !strings.Contains(s, "output "+tc.out+"\n") {
				t.Errorf("want output %s in\n%s", tc.out, s)
			}
			if !strings.Contains(s, "height: "+tc.rule) {
				t.Errorf("want height rule %q in\n%s", tc.rule, s)
			}
			if !regexp.MustCompile(fmt.Sprintf(`= %d\n`, tc.params)).MatchString(s) {
				t.Errorf("want %d parameters in\n%s", tc.params, s)
			}
		})
	}
}

func TestShapeBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"VALID too small", []string{"--input", "3x3x1", "--padding", "VALID"}, "negative"},
		{"bad input", []string{"--input", "28x28"}, "HxWxC"},
		{"zero kernel", []string{"--kernel", "0"}, "--kernel"},
		{"bad stride", []string{"--stride", "two"}, "--stride"},
		{"bad padding", []string{"--padding", "FULL"}, "FULL"},
		{"no filters", []string{"--filters", "0"}, "--filters"},
		{"extra args", []string{"model.ckpt"}, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"shape"}, tc.args...), &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q on error", out.String())
			}
		})
	}
}
