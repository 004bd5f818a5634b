/* p2c2r_formats.h: codecs, pixel layouts and upscale modes, as numbered on the wire.
 *
 * Dependency-free and owned by common/, like p2c2r_error.h: the image code in common/ and
 * the SDK's public header p2c2r.h (which includes this one) share these names, with the
 * runtimes a task may ask for. Each value
 * equals the wire enum of the same name in proto/p2c2r.proto and never changes.
 */
#ifndef P2C2R_FORMATS_H
#define P2C2R_FORMATS_H

#ifdef __cplusplus
extern "C" {
#endif

/* How a payload is encoded. Values match the wire enum Codec. */
typedef enum p2c2r_codec {
    P2C2R_CODEC_RAW = 1,  /* uncompressed pixels in pixel_format */
    P2C2R_CODEC_JPEG = 2, /* a baseline or progressive JPEG */
    P2C2R_CODEC_ZSTD = 3, /* raw pixels compressed with zstd */
} p2c2r_codec;

/* Pixel layout of raw pixels. Values match the wire enum PixelFormat. */
typedef enum p2c2r_pixel_format {
    P2C2R_PIX_UNSPECIFIED = 0, /* for JPEG: whatever the JPEG holds; output: same as input */
    P2C2R_PIX_GRAY8 = 1,       /* one 8-bit plane */
    P2C2R_PIX_RGB24 = 2,       /* packed R,G,B bytes */
    P2C2R_PIX_YUV420P = 3,     /* planar Y, Cb, Cr (JPEG's YCbCr), chroma halved both ways */
    P2C2R_PIX_YUV422P = 4,     /* planar, chroma halved horizontally */
    P2C2R_PIX_YUV444P = 5,     /* planar, full-resolution chroma */
} p2c2r_pixel_format;

/* Upscaling filter. Values match the wire enum UpscaleMode. */
typedef enum p2c2r_mode {
    P2C2R_MODE_FAST = 1,    /* bilinear */
    P2C2R_MODE_BICUBIC = 2, /* Catmull-Rom */
    P2C2R_MODE_LANCZOS = 3, /* Lanczos-3 */
    P2C2R_MODE_QUALITY = 4, /* edge-adaptive upsampling plus sharpening */
} p2c2r_mode;

/* Where a task may run. Values match the wire enum Runtime. */
typedef enum p2c2r_runtime {
    P2C2R_RUNTIME_ANY = 0,  /* whichever peer runs it best */
    P2C2R_RUNTIME_CPU = 1,  /* a CPU peer only */
    P2C2R_RUNTIME_CUDA = 2, /* a GPU (CUDA) peer only */
} p2c2r_runtime;

#ifdef __cplusplus
}
#endif
#endif /* P2C2R_FORMATS_H */
