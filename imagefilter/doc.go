// Package imagefilter applies convolution kernels to images with the nn
// package's TensorFlow-semantics ops: the first half of the CS20 lecture
// "Convolutions in TensorFlow", where a hand-chosen kernel (blur, sharpen,
// edge, sobel, emboss) is slid over a photo without any training.
//
// An image becomes a float32 NHWC tensor once (8-bit samples v map to
// v·(1/255), like tf.image.convert_image_dtype); nn computes every
// kernel's sums of products; the results are clamped to [0, 1] and stored
// as ⌊v·255.5⌋, as convert_image_dtype does going back to uint8. There
// are three modes:
//
//   - RGB (the default) filters each colour channel on its own with
//     nn.DepthwiseConv2D, filter [KH,KW,3,1]; the alpha channel is kept.
//   - Gray converts to luma with tf.image.rgb_to_grayscale's weights
//     0.2989·R + 0.5870·G + 0.1140·B and runs nn.Conv2D, filter [KH,KW,1,1].
//   - MixChannels reproduces the lecture's RGB filters of shape [3,3,3,3],
//     which put the kernel value at every (input, output) channel pair, so
//     that each output channel is the kernel applied to R+G+B: nn.Conv2D
//     with filter [KH,KW,3,3]. This is why the lecture's RGB results
//     "don't seem to work"; its RGB edge filter alone is channel-diagonal
//     (edge8 per channel), which RGB mode computes.
//
// ApplyAll hands kernels of one size to nn together, as extra output
// channels (depthwise multiplier M, or M·C conv filters), one band of
// output rows at a time, so a large photo needs one float copy of the
// input and a few megabytes of float output.
//
// The package does not rotate, crop or colour-manage images (Fit only
// shrinks them for display), and it does not convolve by itself.
package imagefilter
