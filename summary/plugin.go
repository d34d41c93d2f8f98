package summary

import (
	"fmt"
	"math"
	"sort"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from tensorflow/core/framework/tensor.proto and
// summary.proto (SummaryMetadata), TensorBoard's
// plugins/hparams/plugin_data.proto and api.proto, and
// google/protobuf/struct.proto (Value, ListValue).
const (
	tensorDType    = 1 // DataType
	tensorShape    = 2 // TensorShapeProto
	tensorFloatVal = 5 // repeated float, packed
	tensorString   = 8 // repeated bytes

	metaPluginData = 1 // PluginData
	metaDataClass  = 4 // DataClass
	pluginName     = 1 // string
	pluginContent  = 2 // bytes

	hpExperiment   = 2 // HParamsPluginData.experiment
	hpSessionStart = 3 // HParamsPluginData.session_start_info
	hpSessionEnd   = 4 // HParamsPluginData.session_end_info

	expHParamInfo  = 4 // Experiment.hparam_infos
	expMetricInfo  = 5 // Experiment.metric_infos
	expTimeCreated = 3 // Experiment.time_created_secs, double

	hpInfoName      = 1 // HParamInfo.name
	hpInfoType      = 4 // HParamInfo.type, api DataType
	metricInfoName  = 1 // MetricInfo.name, MetricName
	metricInfoShown = 3 // MetricInfo.display_name
	metricGroup     = 1 // MetricName.group
	metricTag       = 2 // MetricName.tag

	startHParams = 1 // SessionStartInfo.hparams, map<string, google.protobuf.Value>
	startTime    = 5 // SessionStartInfo.start_time_secs, double
	endStatus    = 1 // SessionEndInfo.status
	endTime      = 2 // SessionEndInfo.end_time_secs, double

	pbNumber = 2 // google.protobuf.Value.number_value, double
	pbString = 3 // google.protobuf.Value.string_value
	pbBool   = 4 // google.protobuf.Value.bool_value
)

// DataClassTensor is SummaryMetadata.DataClass DATA_CLASS_TENSOR: the value
// is a Tensor read by the plugin named in the metadata.
const DataClassTensor = 2

// Tags and plugin names of the text and hparams plugins.
const (
	PluginText             = "text"
	PluginHParams          = "hparams"
	HParamsExperimentTag   = "_hparams_/experiment"
	HParamsSessionStartTag = "_hparams_/session_start_info"
	HParamsSessionEndTag   = "_hparams_/session_end_info"
)

// Tensor is a TensorProto holding strings (DT_STRING) or floats
// (DT_FLOAT); Shape is empty for a scalar.
type Tensor struct {
	DType   DataType
	Shape   []int64
	Floats  []float32
	Strings [][]byte
}

// Metadata is a SummaryMetadata: the plugin that reads the value and
// that plugin's own serialized data.
type Metadata struct {
	PluginName string
	Content    []byte
	DataClass  int32
}

// Text records text (Markdown) under tag at step for the Text tab, as
// tf.summary.text does: a scalar DT_STRING tensor with plugin "text".
func (w *Writer) Text(tag string, step int64, text string) error {
	return w.value(step, Value{Tag: tag, Kind: KindTensor,
		Tensor:   &Tensor{DType: DTString, Strings: [][]byte{[]byte(text)}},
		Metadata: &Metadata{PluginName: PluginText, DataClass: DataClassTensor},
	})
}

// HParam is one hyperparameter of a run: Value is a string, a float64 (or
// an int, stored as a float64) or a bool.
type HParam struct {
	Name  string
	Value any
}

// HParamMetric names the scalar series a metric is read from: the tag in
// the run <session run>/<Group> (Group "" is the session's own run).
type HParamMetric struct {
	Group, Tag, DisplayName string
}

// SessionStatus is the hparams plugin's Status of a finished session.
type SessionStatus int32

// Session statuses (api.proto Status).
const (
	StatusSuccess SessionStatus = 1
	StatusFailure SessionStatus = 2
)

// HParamsExperiment records which hyperparameters and metrics the HParams
// tab shows as columns (tag "_hparams_/experiment"). Write it once, in the
// run that also holds the session's start and end.
func (w *Writer) HParamsExperiment(hparams []HParam, metrics []HParamMetric, created time.Time) error {
	var exp []byte
	exp = appendDoubleField(exp, expTimeCreated, wallTime(created))
	for _, h := range hparams {
		typ, _, err := hparamValue(h)
		if err != nil {
			return err
		}
		var info []byte
		info = appendStringField(info, hpInfoName, h.Name)
		info = appendVarintField(info, hpInfoType, typ)
		exp = appendMessageField(exp, expHParamInfo, info)
	}
	for _, m := range metrics {
		var name, info []byte
		if m.Group != "" {
			name = appendStringField(name, metricGroup, m.Group)
		}
		name = appendStringField(name, metricTag, m.Tag)
		info = appendMessageField(info, metricInfoName, name)
		if m.DisplayName != "" {
			info = appendStringField(info, metricInfoShown, m.DisplayName)
		}
		exp = appendMessageField(exp, expMetricInfo, info)
	}
	return w.hparams(HParamsExperimentTag, hpExperiment, exp)
}

// HParamsSessionStart records the run's hyperparameter values (tag
// "_hparams_/session_start_info"): the run becomes one row of the HParams
// tab, whose metric columns come from the scalars named in the experiment.
func (w *Writer) HParamsSessionStart(hparams []HParam, start time.Time) error {
	var info []byte
	for _, h := range sortedHParams(hparams) {
		_, v, err := hparamValue(h)
		if err != nil {
			return err
		}
		var e []byte
		e = appendStringField(e, mapKey, h.Name)
		e = appendMessageField(e, mapValue, v)
		info = appendMessageField(info, startHParams, e)
	}
	info = appendDoubleField(info, startTime, wallTime(start))
	return w.hparams(HParamsSessionStartTag, hpSessionStart, info)
}

// HParamsSessionEnd records how the session ended (tag
// "_hparams_/session_end_info").
func (w *Writer) HParamsSessionEnd(status SessionStatus, end time.Time) error {
	var info []byte
	info = appendVarintField(info, endStatus, int64(status))
	info = appendDoubleField(info, endTime, wallTime(end))
	return w.hparams(HParamsSessionEndTag, hpSessionEnd, info)
}

// hparams writes HParamsPluginData{field: msg} as the plugin content of a
// value under tag, with hparams' null tensor (a float 0) as its value.
func (w *Writer) hparams(tag string, field protowire.Number, msg []byte) error {
	content := appendMessageField(nil, field, msg) // version 0 is omitted
	return w.value(0, Value{Tag: tag, Kind: KindTensor,
		Tensor:   &Tensor{DType: DTFloat, Floats: []float32{0}},
		Metadata: &Metadata{PluginName: PluginHParams, Content: content, DataClass: DataClassTensor},
	})
}

func sortedHParams(hs []HParam) []HParam {
	s := append([]HParam(nil), hs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

// hparamValue returns api.proto's DataType of h and h's value as an
// encoded google.protobuf.Value.
func hparamValue(h HParam) (int64, []byte, error) {
	if h.Name == "" {
		return 0, nil, fmt.Errorf("summary: hparam with an empty name")
	}
	switch v := h.Value.(type) {
	case string:
		return 1, appendStringField(nil, pbString, v), nil
	case bool:
		b := int64(0)
		if v {
			b = 1
		}
		return 2, appendVarintField(nil, pbBool, b), nil
	case float64:
		return 3, appendDoubleField(nil, pbNumber, v), nil
	case float32:
		return 3, appendDoubleField(nil, pbNumber, float64(v)), nil
	case int:
		return 3, appendDoubleField(nil, pbNumber, float64(v)), nil
	}
	return 0, nil, fmt.Errorf("summary: hparam %q has a value of type %T, want string, float64, int or bool", h.Name, h.Value)
}

func appendDoubleField(b []byte, num protowire.Number, v float64) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v))
}

func appendMessageField(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func marshalTensor(t *Tensor) []byte {
	var b []byte
	b = appendVarintField(b, tensorDType, int64(t.DType))
	b = appendMessageField(b, tensorShape, marshalShape(t.Shape))
	if len(t.Floats) > 0 {
		var p []byte
		for _, f := range t.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessageField(b, tensorFloatVal, p)
	}
	for _, s := range t.Strings {
		b = appendMessageField(b, tensorString, s)
	}
	return b
}

func unmarshalTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case tensorDType:
			v, err := varintField(num, typ, val)
			t.DType = DataType(v)
			return err
		case tensorShape:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			t.Shape, err = unmarshalShape(m)
			return err
		case tensorFloatVal:
			switch typ {
			case protowire.Fixed32Type:
				v, _ := protowire.ConsumeFixed32(val)
				t.Floats = append(t.Floats, math.Float32frombits(v))
			case protowire.BytesType:
				p, _ := protowire.ConsumeBytes(val)
				if len(p)%4 != 0 {
					return fmt.Errorf("packed floats of %d bytes, not a multiple of 4", len(p))
				}
				for ; len(p) > 0; p = p[4:] {
					v, _ := protowire.ConsumeFixed32(p)
					t.Floats = append(t.Floats, math.Float32frombits(v))
				}
			default:
				return fmt.Errorf("float_val has wire type %d", typ)
			}
		case tensorString:
			s, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			t.Strings = append(t.Strings, append([]byte(nil), s...))
		}
		return nil
	})
	return t, err
}

func marshalMetadata(m *Metadata) []byte {
	var pd []byte
	pd = appendStringField(pd, pluginName, m.PluginName)
	if len(m.Content) > 0 {
		pd = appendMessageField(pd, pluginContent, m.Content)
	}
	b := appendMessageField(nil, metaPluginData, pd)
	if m.DataClass != 0 {
		b = appendVarintField(b, metaDataClass, int64(m.DataClass))
	}
	return b
}

func unmarshalMetadata(b []byte) (*Metadata, error) {
	m := &Metadata{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case metaDataClass:
			v, err := varintField(num, typ, val)
			m.DataClass = int32(v)
			return err
		case metaPluginData:
			pd, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			return eachField(pd, func(num protowire.Number, typ protowire.Type, val []byte) error {
				switch num {
				case pluginName:
					s, err := bytesField(num, typ, val)
					m.PluginName = string(s)
					return err
				case pluginContent:
					s, err := bytesField(num, typ, val)
					m.Content = append([]byte(nil), s...)
					return err
				}
				return nil
			})
		}
		return nil
	})
	return m, err
}

// HParamsData is the decoded content of an hparams plugin value: which
// record it is and, for a session start, the hyperparameter values
// (strings, float64s and bools) and, for a session end, the status.
type HParamsData struct {
	Kind    string         // "experiment", "session_start_info" or "session_end_info"
	HParams map[string]any // session_start_info
	Status  SessionStatus  // session_end_info
	// Metrics are the experiment's metric columns.
	Metrics []HParamMetric
}

// DecodeHParams decodes an hparams plugin value's Metadata.Content (an
// HParamsPluginData message).
func DecodeHParams(content []byte) (HParamsData, error) {
	var d HParamsData
	err := eachField(content, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case hpExperiment:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			d.Kind = "experiment"
			return eachField(m, func(num protowire.Number, typ protowire.Type, val []byte) error {
				if num != expMetricInfo {
					return nil
				}
				info, err := bytesField(num, typ, val)
				if err != nil {
					return err
				}
				var mt HParamMetric
				err = eachField(info, func(num protowire.Number, typ protowire.Type, val []byte) error {
					switch num {
					case metricInfoShown:
						s, err := bytesField(num, typ, val)
						mt.DisplayName = string(s)
						return err
					case metricInfoName:
						name, err := bytesField(num, typ, val)
						if err != nil {
							return err
						}
						return eachField(name, func(num protowire.Number, typ protowire.Type, val []byte) error {
							s, err := bytesField(num, typ, val)
							switch num {
							case metricGroup:
								mt.Group = string(s)
							case metricTag:
								mt.Tag = string(s)
							}
							return err
						})
					}
					return nil
				})
				d.Metrics = append(d.Metrics, mt)
				return err
			})
		case hpSessionStart:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			d.Kind, d.HParams = "session_start_info", map[string]any{}
			return eachField(m, func(num protowire.Number, typ protowire.Type, val []byte) error {
				if num != startHParams {
					return nil
				}
				e, err := bytesField(num, typ, val)
				if err != nil {
					return err
				}
				var value any
				key, err := decodeMapEntry(e, func(v []byte) (err error) {
					value, err = decodeProtobufValue(v)
					return err
				})
				d.HParams[key] = value
				return err
			})
		case hpSessionEnd:
			m, err := bytesField(num, typ, val)
			if err != nil {
				return err
			}
			d.Kind = "session_end_info"
			return eachField(m, func(num protowire.Number, typ protowire.Type, val []byte) error {
				if num != endStatus {
					return nil
				}
				v, err := varintField(num, typ, val)
				d.Status = SessionStatus(v)
				return err
			})
		}
		return nil
	})
	return d, err
}

// decodeProtobufValue decodes the number, string and bool cases of a
// google.protobuf.Value (others give nil).
func decodeProtobufValue(b []byte) (any, error) {
	var v any
	err := eachField(b, func(num protowire.Number, typ protowire.Type, val []byte) error {
		switch num {
		case pbNumber:
			if err := wantType(num, typ, protowire.Fixed64Type); err != nil {
				return err
			}
			x, _ := protowire.ConsumeFixed64(val)
			v = math.Float64frombits(x)
		case pbString:
			s, err := bytesField(num, typ, val)
			v = string(s)
			return err
		case pbBool:
			x, err := varintField(num, typ, val)
			v = x != 0
			return err
		}
		return nil
	})
	return v, err
}
