package optim

// LRSetter is implemented by every optimizer in this package: the
// learning rate can change between Steps, as a Keras
// LearningRateSchedule or callback changes optimizer.learning_rate. The
// new rate applies from the next Step on; the slots and the iteration
// count are not touched, so Adam's bias correction keeps counting.
type LRSetter interface {
	// LearningRate returns the rate the next Step uses.
	LearningRate() float64
	// SetLearningRate sets the rate of the following Steps.
	SetLearningRate(lr float64)
}

// LearningRate returns SGD's current rate.
func (o *SGD) LearningRate() float64 { return float64(o.lr) }

// SetLearningRate sets SGD's rate for the next Steps.
func (o *SGD) SetLearningRate(lr float64) { o.lr = float32(lr) }

// LearningRate returns Momentum's current rate.
func (o *Momentum) LearningRate() float64 { return float64(o.lr) }

// SetLearningRate sets Momentum's rate for the next Steps.
func (o *Momentum) SetLearningRate(lr float64) { o.lr = float32(lr) }

// LearningRate returns RMSProp's current rate.
func (o *RMSProp) LearningRate() float64 { return float64(o.lr) }

// SetLearningRate sets RMSProp's rate for the next Steps.
func (o *RMSProp) SetLearningRate(lr float64) { o.lr = float32(lr) }

// LearningRate returns Adam's current base rate (before bias correction).
func (o *Adam) LearningRate() float64 { return o.c.LR }

// SetLearningRate sets Adam's base rate for the next Steps.
func (o *Adam) SetLearningRate(lr float64) { o.c.LR = lr }

// LearningRate returns AdamW's current base rate.
func (o *AdamW) LearningRate() float64 { return o.c.LR }

// SetLearningRate sets AdamW's base rate (which also scales its weight
// decay, as in Keras) for the next Steps.
func (o *AdamW) SetLearningRate(lr float64) { o.c.LR = lr }

var (
	_ LRSetter = (*SGD)(nil)
	_ LRSetter = (*Momentum)(nil)
	_ LRSetter = (*RMSProp)(nil)
	_ LRSetter = (*Adam)(nil)
	_ LRSetter = (*AdamW)(nil)
)
