package nn

import (
	"bytes"
	"strings"
	"testing"

	"github.com/convnet-go/convnet/internal/kernels"
)

// TestConvPlans pins the path planConv picks for the lecture model's
// convolutions (forward, input and filter gradient at batch 128) and for
// the 3×3 convolutions of models.NewResNet.
func TestConvPlans(t *testing.T) {
	if !tune.Winograd || kernels.Impl() == "ref" {
		t.Skip("Winograd path off (CONVNET_WINOGRAD=off or ref kernels)")
	}
	same := ConvOptions{Padding: "SAME"}
	for _, tc := range []struct {
		name                 string
		in, filter           []int
		o                    ConvOptions
		fwd, inGrad, fltGrad string // algorithm, or Winograd scheme
	}{
		{"lecture conv1", []int{128, 28, 28, 1}, []int{5, 5, 1, 32}, same, "direct-c1", "col2im", "direct-c1"},
		{"lecture conv2", []int{128, 14, 14, 32}, []int{5, 5, 32, 64}, same, "F(4x4,5x5)", "flip F(4x4,5x5)", "F(4x4,5x5)"},
		{"resnet stem", []int{128, 28, 28, 1}, []int{3, 3, 1, 16}, same, "direct-c1", "col2im", "direct-c1"},
		{"resnet stage 1", []int{128, 28, 28, 16}, []int{3, 3, 16, 16}, same, "F(4x4,3x3)", "flip F(4x4,3x3)", "F(4x4,3x3)"},
		{"resnet stage 2", []int{128, 14, 14, 32}, []int{3, 3, 32, 32}, same, "F(4x4,3x3)", "flip F(4x4,3x3)", "F(4x4,3x3)"},
		{"resnet stage 3", []int{128, 7, 7, 64}, []int{3, 3, 64, 64}, same, "F(4x4,3x3)", "flip F(4x4,3x3)", "F(4x4,3x3)"},
		{"resnet stride 2", []int{128, 28, 28, 16}, []int{3, 3, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2}}, "im2col", "phases", "im2col"},
		{"resnet projection", []int{128, 28, 28, 16}, []int{1, 1, 16, 32}, ConvOptions{Padding: "SAME", Strides: []int{2}}, "im2col", "phases", "im2col"},
		{"pointwise", []int{128, 7, 7, 64}, []int{1, 1, 64, 64}, same, "pointwise", "pointwise", "pointwise"},
		{"rgb stem", []int{128, 32, 32, 3}, []int{3, 3, 3, 16}, same, "im2col", "col2im", "im2col"},
		{"empty", []int{0, 7, 7, 8}, []int{3, 3, 8, 8}, same, "clear", "clear", "clear"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newConvSpec("test", 2, tc.in, tc.filter, tc.o, false)
			if err != nil {
				t.Fatal(err)
			}
			name := func(p *convPlan) string {
				switch p.algo {
				case algoWinograd:
					return p.scheme.Name
				case algoFlip:
					if p.inner.algo == algoWinograd {
						return "flip " + p.inner.scheme.Name
					}
					return "flip " + algoNames[p.inner.algo]
				}
				return algoNames[p.algo]
			}
			for _, c := range []struct {
				pass convPass
				want string
			}{{passForward, tc.fwd}, {passInputGrad, tc.inGrad}, {passFilterGrad, tc.fltGrad}} {
				if got := name(planOf(c.pass, &s.g, s.f)); got != c.want {
					t.Errorf("%s: %s, want %s", passNames[c.pass], got, c.want)
				}
			}
		})
	}
}

// TestExplainPlans: with a writer set, each pass over a geometry is
// explained once, naming the geometry and the path.
func TestExplainPlans(t *testing.T) {
	if kernels.Impl() == "ref" {
		t.Skip("no fast paths with the ref kernels")
	}
	var buf bytes.Buffer
	ExplainPlans(&buf)
	defer ExplainPlans(nil)
	x, w := cvRand(1, 2, 19, 17, 8), cvRand(2, 1, 1, 8, 9) // a geometry no other test plans
	for range 3 {
		if _, err := Conv2D(x, w, ConvOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := "conv plan: forward N=2 in 19x17x8 k 1x1 pad 0,0 → 19x17 F=9: pointwise\n"
	if got := buf.String(); got != want {
		t.Errorf("explained:\n%q\nwant once:\n%q", got, want)
	}
	ExplainPlans(nil)
	if _, err := Conv2D(cvRand(3, 1, 23, 5, 8), w, ConvOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("explained after ExplainPlans(nil):\n%s", buf.String())
	}
}

// A Packed filter's memoised plan, made before ExplainPlans, is still
// explained the first time it is used after.
func TestExplainPlansPackedMemo(t *testing.T) {
	if kernels.Impl() == "ref" {
		t.Skip("no fast paths with the ref kernels")
	}
	x, p := cvRand(1, 1, 13, 11, 8), NewPacked(cvRand(2, 1, 1, 8, 7)) // a geometry no other test plans
	if _, err := Conv2DPacked(x, p, ConvOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ExplainPlans(&buf)
	defer ExplainPlans(nil)
	for range 2 {
		if _, err := Conv2DPacked(x, p, ConvOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := "conv plan: forward N=1 in 13x11x8 k 1x1 pad 0,0 → 13x11 F=7: pointwise\n"
	if got := buf.String(); got != want {
		t.Errorf("explained:\n%q\nwant once:\n%q", got, want)
	}
}

// TestWinogradPlanString: a Winograd plan names each way it runs, the
// streaming stores beside a shared-out or spread block too.
func TestWinogradPlanString(t *testing.T) {
	for _, tc := range []struct {
		p    convPlan
		want string
	}{
		{convPlan{block: 96}, "winograd F(4x4,3x3), blocks of 96 tiles"},
		{convPlan{block: 96, stream: true}, "winograd F(4x4,3x3), blocks of 96 tiles, outputs stored streaming"},
		{convPlan{block: 96, spread: 25}, "winograd F(4x4,3x3), blocks of 96 tiles on one goroutine, or of 25 spread over the workers, whichever has been faster"},
		{convPlan{block: 96, split: true, stream: true}, "winograd F(4x4,3x3), blocks of 96 tiles, each block's phases shared out among the workers, outputs stored streaming"},
	} {
		tc.p.algo, tc.p.scheme = algoWinograd, kernels.Wino43
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
