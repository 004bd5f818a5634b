/* quality: the QUALITY mode's luma path, in the spirit of AMD FSR 1 (EASU + RCAS), written
 * from the published description of the technique, not from AMD's code.
 *
 * Edge-adaptive upsampling (EASU-like): each output pixel is a weighted sum of the 12
 * source pixels nearest to it (a 4x4 block without its corners). The weights come from a
 * Lanczos-2-like radial kernel (a polynomial approximation of windowed sinc) that is turned
 * and stretched to follow the local edge: the structure tensor of the source gradients,
 * blended bilinearly from the four nearest source pixels, gives the edge direction and how
 * strongly oriented the area is; where it is strongly oriented the kernel is narrowed
 * across the edge and widened along it, and its negative lobe is weakened. The result is
 * clamped to the range of the four nearest source pixels, which removes ringing.
 *
 * Contrast-adaptive sharpening (RCAS-like) then runs on the upsampled image: each pixel
 * gets the strongest negative lobe on its four neighbours that keeps the result inside
 * 0..255 for the local minimum and maximum, scaled by a fixed sharpness, so flat areas and
 * strong edges are sharpened without clipping or halos.
 *
 * Float arithmetic, scalar, in the same order on every CPU: the bytes do not depend on
 * the SIMD level or on how the image is cut into bands.
 */
#ifndef P2C2R_UPSCALE_QUALITY_H
#define P2C2R_UPSCALE_QUALITY_H

/* Sharpness of the RCAS pass, as a fraction of the strongest lobe (the same scale as FSR's
 * exp2(-stops) control: 1 is the sharpest). */
#define UPSCALE_RCAS_STRENGTH 0.8f

#endif /* P2C2R_UPSCALE_QUALITY_H */
