package summary

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.
const (
	eventWallTime    = 1 // double
	eventStep        = 2 // int64
	eventFileVersion = 3 // string
	eventSummary     = 5 // Summary

	summaryValue = 1 // repeated Summary.Value

	valueTag      = 1 // string
	valueSimple   = 2 // float
	valueImage    = 4 // Summary.Image
	valueHisto    = 5 // HistogramProto
	valueTensor   = 8 // TensorProto
	valueMetadata = 9 // SummaryMetadata

	imageHeight     = 1 // int32
	imageWidth      = 2 // int32
	imageColorspace = 3 // int32
	imageEncoded    = 4 // bytes

	histoMin         = 1 // double
	histoMax         = 2
	histoNum         = 3
	histoSum         = 4
	histoSumSquares  = 5
	histoBucketLimit = 6 // repeated double, packed
	histoBucket      = 7 // repeated double, packed
)

// Kind says which of a Value's fields is set.
type Kind int

// The kinds of summary value this package writes and decodes.
const (
	KindUnknown   Kind = iota // a value of a type this package does not decode
	KindScalar                // Value.Simple
	KindHistogram             // Value.Histo
	KindImage                 // Value.Image
	KindTensor                // Value.Tensor, read by the plugin named in Value.Metadata
)

// Event is a decoded TensorBoard event. The first event of a file carries
// only FileVersion ("brain.Event:2"); the others carry summary Values or
// a Graph.
type Event struct {
	WallTime    float64 // seconds since the Unix epoch
	Step        int64
	FileVersion string
	Values      []Value
	Graph       *GraphDef // Event.graph_def
}

// Value is one tagged summary value.
type Value struct {
	Tag    string
	Kind   Kind
	Simple float32    // KindScalar
	Histo  *Histogram // KindHistogram
	Image  *Image     // KindImage
	Tensor *Tensor    // KindTensor
	// Metadata names the plugin that reads the value (text, hparams);
	// nil for scalars, histograms and images.
	Metadata *Metadata
}

// Image is a Summary.Image: the encoded (here PNG) bytes and their size.
// Colorspace is 1 grayscale, 2 grayscale+alpha, 3 RGB, 4 RGBA.
type Image struct {
	Height, Width, Colorspace int32
	Encoded                   []byte
}

// marshalEvent encodes an Event; exactly one of fileVersion and values is
// expected to be set, but both are encoded if given.
func marshalEvent(e *Event) []byte {
	var b []byte
	b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(e.WallTime))
	b = protowire.AppendTag(b, eventStep, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(e.Step))
	if e.FileVersion != "" {
		b = protowire.AppendTag(b, eventFileVersion, protowire.BytesType)
		b = protowire.AppendString(b, e.FileVersion)
	}
	if e.Graph != nil {
		b = protowire.AppendTag(b, eventGraphDef, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalGraphDef(e.Graph))
	}
	if len(e.Values) > 0 {
		var s []byte
		for i := range e.Values {
			s = protowire.AppendTag(s, summaryValue, protowire.BytesType)
			s = protowire.AppendBytes(s, marshalValue(&e.Values[i]))
		}
		b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
		b = protowire.AppendBytes(b, s)
	}
	return b
}

func marshalValue(v *Value) []byte {
	var b []byte
	b = protowire.AppendTag(b, valueTag, protowire.BytesType)
	b = protowire.AppendString(b, v.Tag)
	switch v.Kind {
	case KindScalar:
		b = protowire.AppendTag(b, valueSimple, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(v.Simple))
	case KindImage:
		var m []byte
		m = appendVarintField(m, imageHeight, int64(v.Image.Height))
		m = appendVarintField(m, imageWidth, int64(v.Image.Width))
		m = appendVarintField(m, imageColorspace, int64(v.Image.Colorspace))
		m = protowire.AppendTag(m, imageEncoded, protowire.BytesType)
		m = protowire.AppendBytes(m, v.Image.Encoded)
		b = protowire.AppendTag(b, valueImage, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	case KindHistogram:
		h := v.Histo
		var m []byte
		for _, f := range []struct {
			num protowire.Number
			v   float64
		}{{histoMin, h.Min}, {histoMax, h.Max}, {histoNum, h.Num}, {histoSum, h.Sum}, {histoSumSquares, h.SumSquares}} {
			m = protowire.AppendTag(m, f.num, protowire.Fixed64Type)
			m = protowire.AppendFixed64(m, math.Float64bits(f.v))
		}
		m = appendPacked(m, histoBucketLimit, h.BucketLimit)
		m = appendPacked(m, histoBucket, h.Bucket)
		b = protowire.AppendTag(b, valueHisto, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	case KindTensor:
		b = protowire.AppendTag(b, valueTensor, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalTensor(v.Tensor))
	}
	if v.Metadata != nil {
		b = protowire.AppendTag(b, valueMetadata, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalMetadata(v.Metadata))
	}
	return b
}

func appendVarintField(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendPacked(b []byte, num protowire.Number, vs []float64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = protowire.AppendFixed64(b, math.Float64bits(v))
	}
	return b
}

// eachField calls fn for every field of the message in b; fn receives
// the raw field value (after the tag). Unknown fields are the caller's to
// ignore.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, val []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return fmt.Errorf("field %d: %v", num, protowire.ParseError(m))
		}
		if err := fn(num, typ, b[:m]); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}

func wantType(num protowire.Number, got, want protowire.Type) error {
	if got != want {
		return fmt.Errorf("field %d has wire type %d, want %d", num, got, want)
	}
	return nil
}

func unmarshalEvent(b []byte) (Event, error) {
	var e Event
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case eventWallTime:
			if err := wantType(num, typ, protowire.Fixed64Type); err != nil {
				return err
			}
			v, _ := protowire.ConsumeFixed64(val)
			e.WallTime = math.Float64frombits(v)
		case eventStep:
			if err := wantType(num, typ, protowire.VarintType); err != nil {
				return err
			}
			v, _ := protowire.ConsumeVarint(val)
			e.Step = int64(v)
		case eventFileVersion:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			s, _ := protowire.ConsumeBytes(val)
			e.FileVersion = string(s)
		case eventGraphDef:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			if e.Graph, err = unmarshalGraphDef(m); err != nil {
				return fmt.Errorf("graph_def: %v", err)
			}
		case eventSummary:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			s, _ := protowire.ConsumeBytes(val)
			return eachField(s, func(num protowire.Number, typ protowire.Type, val []byte) error {
				if num != summaryValue {
					return nil
				}
				if err := wantType(num, typ, protowire.BytesType); err != nil {
					return err
				}
				m, _ := protowire.ConsumeBytes(val)
				v, err := unmarshalValue(m)
				if err != nil {
					return fmt.Errorf("summary value %d: %v", len(e.Values), err)
				}
				e.Values = append(e.Values, v)
				return nil
			})
		}
		return nil
	})
	return e, err
}

func unmarshalValue(b []byte) (Value, error) {
	var v Value
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case valueTag:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			s, _ := protowire.ConsumeBytes(val)
			v.Tag = string(s)
		case valueSimple:
			if err := wantType(num, typ, protowire.Fixed32Type); err != nil {
				return err
			}
			f, _ := protowire.ConsumeFixed32(val)
			v.Kind, v.Simple = KindScalar, math.Float32frombits(f)
		case valueImage:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			m, _ := protowire.ConsumeBytes(val)
			img, err := unmarshalImage(m)
			if err != nil {
				return fmt.Errorf("image: %v", err)
			}
			v.Kind, v.Image = KindImage, img
		case valueHisto:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			m, _ := protowire.ConsumeBytes(val)
			h, err := unmarshalHisto(m)
			if err != nil {
				return fmt.Errorf("histo: %v", err)
			}
			v.Kind, v.Histo = KindHistogram, h
		case valueTensor:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			tp, err := unmarshalTensor(m)
			if err != nil {
				return fmt.Errorf("tensor: %v", err)
			}
			v.Kind, v.Tensor = KindTensor, tp
		case valueMetadata:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			md, err := unmarshalMetadata(m)
			if err != nil {
				return fmt.Errorf("metadata: %v", err)
			}
			v.Metadata = md
		}
		return nil
	})
	return v, err
}

func unmarshalImage(b []byte) (*Image, error) {
	img := &Image{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		var dst *int32
		switch num {
		case imageHeight:
			dst = &img.Height
		case imageWidth:
			dst = &img.Width
		case imageColorspace:
			dst = &img.Colorspace
		case imageEncoded:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			s, _ := protowire.ConsumeBytes(val)
			img.Encoded = append([]byte(nil), s...)
			return nil
		default:
			return nil
		}
		if err := wantType(num, typ, protowire.VarintType); err != nil {
			return err
		}
		x, _ := protowire.ConsumeVarint(val)
		*dst = int32(x)
		return nil
	})
	return img, err
}

func unmarshalHisto(b []byte) (*Histogram, error) {
	h := &Histogram{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		var dst *float64
		switch num {
		case histoMin:
			dst = &h.Min
		case histoMax:
			dst = &h.Max
		case histoNum:
			dst = &h.Num
		case histoSum:
			dst = &h.Sum
		case histoSumSquares:
			dst = &h.SumSquares
		case histoBucketLimit, histoBucket:
			list := &h.BucketLimit
			if num == histoBucket {
				list = &h.Bucket
			}
			return appendDoubles(list, num, typ, val)
		default:
			return nil
		}
		if err := wantType(num, typ, protowire.Fixed64Type); err != nil {
			return err
		}
		x, _ := protowire.ConsumeFixed64(val)
		*dst = math.Float64frombits(x)
		return nil
	})
	if err == nil && len(h.BucketLimit) != len(h.Bucket) {
		err = fmt.Errorf("%d bucket limits but %d buckets", len(h.BucketLimit), len(h.Bucket))
	}
	return h, err
}

// appendDoubles decodes a repeated double field, packed or not.
func appendDoubles(list *[]float64, num protowire.Number, typ protowire.Type, val []byte) error {
	switch typ {
	case protowire.Fixed64Type:
		x, _ := protowire.ConsumeFixed64(val)
		*list = append(*list, math.Float64frombits(x))
		return nil
	case protowire.BytesType:
		p, _ := protowire.ConsumeBytes(val)
		if len(p)%8 != 0 {
			return fmt.Errorf("field %d: packed doubles of %d bytes, not a multiple of 8", num, len(p))
		}
		for ; len(p) > 0; p = p[8:] {
			x, _ := protowire.ConsumeFixed64(p)
			*list = append(*list, math.Float64frombits(x))
		}
		return nil
	}
	return errors.New("repeated double with wire type " + fmt.Sprint(typ))
}
