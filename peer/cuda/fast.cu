/* fast: the fast mode (bilinear, 2 taps) on a CUDA device: separable.cuh's kernel
 * instantiated for 2 taps, one and three channels. */
#include "separable.cuh"

const cuk_mode_ops cuk_fast_ops = {
    .launch = cuk_sep_launch<2>,
    .emulate = cuk_sep_emulate<2>,
};
