/* zstd: whole-buffer zstd compression with a bounded decompress.
 *
 * A zstd frame declares its decompressed size; p2c2r__zstd_decompress() refuses frames that
 * do not declare it, or declare more than the caller allows, before allocating anything,
 * so a small hostile payload cannot make a peer allocate gigabytes.
 */
#ifndef P2C2R_ZSTD_H
#define P2C2R_ZSTD_H

#include <stddef.h>
#include <stdint.h>

/* Compress size bytes at data into a new malloc'd buffer (caller frees with free()).
 * level is a zstd level (1..19; 0 picks the default). */
int p2c2r__zstd_compress(const void *data, size_t size, int level, uint8_t **out, size_t *out_size);

/* Read the declared content size of a payload that must be exactly one whole zstd frame,
 * without decompressing it. P2C2R_E_BADINPUT when it is not, or declares no size. */
int p2c2r__zstd_content_size(const void *data, size_t size, uint64_t *content_size);

/* Decompress one zstd frame into a new malloc'd buffer of its declared content size.
 * P2C2R_E_BADINPUT for bytes that are not one valid frame, for a frame without a declared
 * size or for data that does not match the declared size; P2C2R_E_TOOBIG when the
 * declared size exceeds max_size. On error *out is NULL. */
int p2c2r__zstd_decompress(const void *data, size_t size, size_t max_size, uint8_t **out,
                           size_t *out_size);

/* The same into dst, whose size must be exactly the declared content size: P2C2R_E_TOOBIG
 * when the frame declares more, P2C2R_E_BADINPUT when less or on any of the errors above. */
int p2c2r__zstd_decompress_into(const void *data, size_t size, void *dst, size_t dst_size);

/* Free a buffer from this module; matches zmq_free_fn for zero-copy sends. */
void p2c2r__zstd_free_buffer(void *data, void *hint);

#endif /* P2C2R_ZSTD_H */
