/* mentorlink UI — video: one streaming I420 texture per tile.
 *
 * Frames are uploaded as they come from the decoder (SDL_PIXELFORMAT_IYUV,
 * SDL_UpdateYUVTexture with the decoder's strides): the GPU converts to RGB
 * and scales; the CPU only copies planes. Drawing keeps the aspect ratio
 * (letterbox or pillarbox, black bars). Threads: the renderer's thread.
 */
#ifndef ML_UI_VIDEO_H
#define ML_UI_VIDEO_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

#include "layout.h"

typedef struct ml_ui_video {
  SDL_Texture *tex;
  int w, h;
  uint64_t seq; /* of the frame uploaded last; 0 none */
} ml_ui_video;

/* Uploads one I420 frame (planes Y, U, V; chroma (w+1)/2 x (h+1)/2),
 * (re)creating the texture when the size changes. Returns 0, or -1 with
 * SDL_GetError() set (the previous picture stays). */
int ml_ui_video_upload(ml_ui_video *v, SDL_Renderer *r, int w, int h,
                       const uint8_t *const planes[3], const int strides[3], uint64_t seq);

/* Draws the picture into box, aspect kept; false when there is none. */
bool ml_ui_video_draw(const ml_ui_video *v, SDL_Renderer *r, ml_rect box);

void ml_ui_video_reset(ml_ui_video *v);

#endif /* ML_UI_VIDEO_H */
