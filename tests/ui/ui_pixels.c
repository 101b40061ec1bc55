/* Pixel checks for the window's tests (see ui_pixels.h). */
#include "ui_pixels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>
#include <SDL_ttf.h>

SDL_Color ml_px_get(SDL_Surface *s, int x, int y) {
  SDL_Color c = {0, 0, 0, 0};
  if (x < 0 || y < 0 || x >= s->w || y >= s->h)
    return c;
  Uint32 p = ((const Uint32 *)((const Uint8 *)s->pixels + (size_t)y * s->pitch))[x];
  SDL_GetRGBA(p, s->format, &c.r, &c.g, &c.b, &c.a);
  return c;
}

bool ml_px_near(SDL_Color c, int r, int g, int b, int tol) {
  return abs(c.r - r) <= tol && abs(c.g - g) <= tol && abs(c.b - b) <= tol;
}

/* The text rendered as the window renders it, on bg, cropped to the rows
 * with ink; *line_area is the uncropped line's width x height. */
static SDL_Surface *template_of(ml_px_font font, float scale, const char *text, SDL_Color fg,
                                SDL_Color bg, long *line_area) {
  if (!TTF_WasInit() && TTF_Init() != 0)
    return NULL;
  char path[512];
  snprintf(path, sizeof path, "/usr/share/fonts/truetype/dejavu/%s", font.file);
  TTF_Font *f = TTF_OpenFont(path, (int)(font.pt * scale + 0.5f));
  if (!f)
    return NULL;
  TTF_SetFontHinting(f, TTF_HINTING_LIGHT);
  fg.a = 255;
  SDL_Surface *glyphs = TTF_RenderUTF8_Blended(f, text, fg);
  TTF_CloseFont(f);
  if (!glyphs)
    return NULL;
  /* Only the rows with ink: the line's full height would reach into the
   * next wrapped line's ascenders (line skip < ascent + descent). */
  SDL_Rect ink = {0, 0, glyphs->w, 0};
  int top = -1, bottom = -1;
  SDL_LockSurface(glyphs);
  for (int y = 0; y < glyphs->h; y++)
    for (int x = 0; x < glyphs->w; x++) {
      Uint8 r, g, b, a;
      SDL_GetRGBA(((const Uint32 *)((const Uint8 *)glyphs->pixels + (size_t)y * glyphs->pitch))[x],
                  glyphs->format, &r, &g, &b, &a);
      if (a) {
        if (top < 0)
          top = y;
        bottom = y;
        break;
      }
    }
  SDL_UnlockSurface(glyphs);
  *line_area = (long)glyphs->w * glyphs->h;
  ink.y = top < 0 ? 0 : top;
  ink.h = top < 0 ? glyphs->h : bottom - top + 1;
  SDL_Surface *t = SDL_CreateRGBSurfaceWithFormat(0, ink.w, ink.h, 32, SDL_PIXELFORMAT_ARGB8888);
  if (t) {
    SDL_FillRect(t, NULL, SDL_MapRGB(t->format, bg.r, bg.g, bg.b));
    SDL_SetSurfaceBlendMode(glyphs, SDL_BLENDMODE_BLEND);
    SDL_BlitSurface(glyphs, &ink, t, NULL);
  }
  SDL_FreeSurface(glyphs);
  return t;
}

static const Uint32 *row_of(SDL_Surface *s, int y) {
  return (const Uint32 *)((const Uint8 *)s->pixels + (size_t)y * s->pitch);
}

/* Sum of absolute channel differences of template t placed at (ox, oy)
 * (both ARGB8888, t inside shot), stopping early above limit. */
static long diff_at(SDL_Surface *shot, SDL_Surface *t, int ox, int oy, long limit) {
  long sum = 0;
  for (int y = 0; y < t->h; y++) {
    const Uint32 *a = row_of(shot, oy + y) + ox, *b = row_of(t, y);
    for (int x = 0; x < t->w; x++) {
      Uint32 p = a[x], q = b[x];
      sum += abs((int)((p >> 16) & 0xff) - (int)((q >> 16) & 0xff)) +
             abs((int)((p >> 8) & 0xff) - (int)((q >> 8) & 0xff)) +
             abs((int)(p & 0xff) - (int)(q & 0xff));
    }
    if (sum > limit)
      return sum;
  }
  return sum;
}

bool ml_px_find_text(SDL_Surface *shot, SDL_Rect region, ml_px_font font, float scale,
                     const char *text, SDL_Color fg, SDL_Color bg, SDL_Point *at) {
  long line_area = 0;
  SDL_Surface *t = template_of(font, scale, text, fg, bg, &line_area);
  if (!t)
    return false;
  if (shot->format->format != SDL_PIXELFORMAT_ARGB8888) {
    SDL_FreeSurface(t);
    return false;
  }
  SDL_Rect all = {0, 0, shot->w, shot->h};
  SDL_IntersectRect(&region, &all, &region);
  /* GPU and software blending round differently: allow ~6 levels per
   * channel on average over the line's area, which no other string or an
   * empty area meets. */
  long limit = line_area * 3 * 6;
  bool found = false;
  for (int y = region.y; y + t->h <= region.y + region.h && !found; y++)
    for (int x = region.x; x + t->w <= region.x + region.w && !found; x++)
      if (diff_at(shot, t, x, y, limit) <= limit) {
        found = true;
        if (at)
          *at = (SDL_Point){x, y};
      }
  SDL_FreeSurface(t);
  return found;
}

SDL_Surface *ml_px_load(const char *path) {
  SDL_Surface *s = IMG_Load(path);
  if (!s)
    return NULL;
  SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
  SDL_FreeSurface(s);
  return c;
}

const SDL_Color ml_px_bars[7] = {
    {191, 191, 191, 255}, {191, 191, 0, 255}, {0, 191, 191, 255}, {0, 191, 0, 255},
    {191, 0, 191, 255},   {191, 0, 0, 255},   {0, 0, 191, 255},
};

void ml_px_make_bars(int width, int height, unsigned char *y, int sy, unsigned char *u, int su,
                     unsigned char *v, int sv) {
  for (int row = 0; row < height; row++)
    for (int col = 0; col < width; col++) {
      SDL_Color c = ml_px_bars[col * 7 / width];
      double r = c.r / 255.0, g = c.g / 255.0, b = c.b / 255.0;
      y[row * sy + col] = (unsigned char)(16 + 65.481 * r + 128.553 * g + 24.966 * b + 0.5);
      if (!(row & 1) && !(col & 1)) {
        u[(row / 2) * su + col / 2] =
            (unsigned char)(128 - 37.797 * r - 74.203 * g + 112.0 * b + 0.5);
        v[(row / 2) * sv + col / 2] =
            (unsigned char)(128 + 112.0 * r - 93.786 * g - 18.214 * b + 0.5);
      }
    }
}
