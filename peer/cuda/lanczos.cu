/* lanczos: the lanczos mode (Lanczos-3, 6 taps) on a CUDA device: separable.cuh's kernel
 * instantiated for 6 taps, one and three channels. */
#include "separable.cuh"

const cuk_mode_ops cuk_lanczos_ops = {
    .launch = cuk_sep_launch<6>,
    .emulate = cuk_sep_emulate<6>,
};
