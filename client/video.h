/* video: `p2c2r video`, a raw video pipe through the cluster.
 *
 *   ffmpeg -i in.mp4 -f rawvideo -pix_fmt yuv420p - |
 *     p2c2r video --size 1280x720 --fps 30 --coordinator tcp://HOST:7700 |
 *     ffmpeg -f rawvideo -pix_fmt yuv420p -s 2560x1440 -r 30 -i - out.mkv
 *
 * Frames are read from stdin as a live source delivers them (at most --fps a second),
 * each is lent to the SDK without a copy and upscaled with a deadline, by the cluster or,
 * when it cannot make it, by the local fallback; outputs go to stdout in input order,
 * every frame. A progress line goes to stderr when it is a terminal, a summary at the end.
 */
#ifndef P2C2R_CLIENT_VIDEO_H
#define P2C2R_CLIENT_VIDEO_H

/* argv[0] is "video". Returns the exit status. */
int cli_video_main(int argc, char **argv);

#endif /* P2C2R_CLIENT_VIDEO_H */
