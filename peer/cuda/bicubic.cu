/* bicubic: the bicubic mode (Catmull-Rom, 4 taps) on a CUDA device: separable.cuh's kernel
 * instantiated for 4 taps, one and three channels. */
#include "separable.cuh"

const cuk_mode_ops cuk_bicubic_ops = {
    .launch = cuk_sep_launch<4>,
    .emulate = cuk_sep_emulate<4>,
};
