/* mentorlink UI — video (see video.h). */
#include "video.h"

int ml_ui_video_upload(ml_ui_video *v, SDL_Renderer *r, int w, int h,
                       const uint8_t *const planes[3], const int strides[3], uint64_t seq) {
  if (w <= 0 || h <= 0 || w > 8192 || h > 8192 || !planes[0] || !planes[1] || !planes[2]) {
    SDL_SetError("bad frame %dx%d", w, h);
    return -1;
  }
  if (!v->tex || v->w != w || v->h != h) {
    SDL_Texture *tex =
        SDL_CreateTexture(r, SDL_PIXELFORMAT_IYUV, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!tex)
      return -1;
    if (v->tex)
      SDL_DestroyTexture(v->tex);
    v->tex = tex;
    v->w = w;
    v->h = h;
  }
  SDL_Rect all = {0, 0, w, h};
  if (SDL_UpdateYUVTexture(v->tex, &all, planes[0], strides[0], planes[1], strides[1], planes[2],
                           strides[2]) != 0)
    return -1;
  v->seq = seq;
  return 0;
}

bool ml_ui_video_draw(const ml_ui_video *v, SDL_Renderer *r, ml_rect box) {
  if (!v || !v->tex)
    return false;
  SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
  SDL_Rect b = {box.x, box.y, box.w, box.h};
  SDL_RenderFillRect(r, &b);
  ml_rect f = ml_layout_fit(box, v->w, v->h);
  SDL_Rect dst = {f.x, f.y, f.w, f.h};
  SDL_RenderCopy(r, v->tex, NULL, &dst);
  return true;
}

void ml_ui_video_reset(ml_ui_video *v) {
  if (v->tex)
    SDL_DestroyTexture(v->tex);
  *v = (ml_ui_video){0};
}
