/* mentorlink UI — text (see text.h). */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#include "utf8.h"

#define CACHE_SIZE 384
#define CACHE_KEEP_FRAMES 120

typedef struct entry {
  char *s;
  size_t len;
  uint32_t hash;
  ml_ui_font font;
  ml_rgb col;
  SDL_Texture *tex;
  int w, h;
  uint64_t used;
} entry;

struct ml_ui_text {
  SDL_Renderer *r;
  char dir[512];
  float scale;
  TTF_Font *fonts[ML_FONT_COUNT];
  entry cache[CACHE_SIZE];
  uint64_t frame;
};

static const struct {
  const char *file;
  int pt;
} font_spec[ML_FONT_COUNT] = {
    [ML_FONT_BODY] = {"DejaVuSans.ttf", 16},       [ML_FONT_BOLD] = {"DejaVuSans-Bold.ttf", 16},
    [ML_FONT_SMALL] = {"DejaVuSans.ttf", 13},      [ML_FONT_TITLE] = {"DejaVuSans-Bold.ttf", 21},
    [ML_FONT_LARGE] = {"DejaVuSans-Bold.ttf", 30}, [ML_FONT_MONO] = {"DejaVuSansMono.ttf", 18},
    [ML_FONT_HUGE] = {"DejaVuSans-Bold.ttf", 44},
};

static void drop_cache(ml_ui_text *t) {
  for (size_t i = 0; i < CACHE_SIZE; i++) {
    if (t->cache[i].tex)
      SDL_DestroyTexture(t->cache[i].tex);
    free(t->cache[i].s);
    memset(&t->cache[i], 0, sizeof t->cache[i]);
  }
}

static int open_fonts(ml_ui_text *t, float scale, TTF_Font **fonts, char *err, size_t err_len) {
  for (int i = 0; i < ML_FONT_COUNT; i++) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", t->dir, font_spec[i].file);
    fonts[i] = TTF_OpenFont(path, (int)(font_spec[i].pt * scale + 0.5f));
    if (!fonts[i]) {
      if (err)
        snprintf(err, err_len, "cannot open the font %s: %s", path, TTF_GetError());
      for (int k = 0; k < i; k++)
        TTF_CloseFont(fonts[k]);
      return -1;
    }
    TTF_SetFontHinting(fonts[i], TTF_HINTING_LIGHT);
  }
  return 0;
}

int ml_ui_text_new(ml_ui_text **out, SDL_Renderer *r, const char *font_dir, float scale, char *err,
                   size_t err_len) {
  *out = NULL;
  if (!TTF_WasInit() && TTF_Init() != 0) {
    snprintf(err, err_len, "SDL_ttf: %s", TTF_GetError());
    return -1;
  }
  ml_ui_text *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  t->r = r;
  snprintf(t->dir, sizeof t->dir, "%s", font_dir ? font_dir : ML_UI_FONT_DIR);
  t->scale = scale < 1.0f ? 1.0f : scale;
  if (open_fonts(t, t->scale, t->fonts, err, err_len) != 0) {
    free(t);
    return -1;
  }
  *out = t;
  return 0;
}

int ml_ui_text_set_scale(ml_ui_text *t, float scale) {
  if (scale < 1.0f)
    scale = 1.0f;
  if (scale == t->scale)
    return 0;
  TTF_Font *fonts[ML_FONT_COUNT];
  if (open_fonts(t, scale, fonts, NULL, 0) != 0)
    return -1;
  drop_cache(t);
  for (int i = 0; i < ML_FONT_COUNT; i++) {
    TTF_CloseFont(t->fonts[i]);
    t->fonts[i] = fonts[i];
  }
  t->scale = scale;
  return 0;
}

void ml_ui_text_free(ml_ui_text *t) {
  if (!t)
    return;
  drop_cache(t);
  for (int i = 0; i < ML_FONT_COUNT; i++)
    TTF_CloseFont(t->fonts[i]);
  free(t);
}

/* SDL_ttf wants NUL-terminated strings. */
static char *dup_n(const char *s, size_t len, char *stack, size_t cap) {
  char *b = len < cap ? stack : malloc(len + 1);
  if (b) {
    memcpy(b, s, len);
    b[len] = '\0';
  }
  return b;
}

int ml_ui_text_width(ml_ui_text *t, ml_ui_font f, const char *s, size_t len) {
  char stack[512];
  char *b = dup_n(s, len, stack, sizeof stack);
  int w = 0, h = 0;
  if (b && len)
    TTF_SizeUTF8(t->fonts[f], b, &w, &h);
  if (b != stack)
    free(b);
  return w;
}

int ml_ui_text_line_height(ml_ui_text *t, ml_ui_font f) { return TTF_FontLineSkip(t->fonts[f]); }

static uint32_t hash_of(const char *s, size_t len, ml_ui_font f, ml_rgb c) {
  uint32_t h = 2166136261u ^ (uint32_t)f ^ ((uint32_t)c.r << 8 | (uint32_t)c.g << 16 | c.b);
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static entry *lookup(ml_ui_text *t, ml_ui_font f, const char *s, size_t len, ml_rgb c) {
  uint32_t h = hash_of(s, len, f, c);
  entry *victim = &t->cache[0];
  for (size_t i = 0; i < CACHE_SIZE; i++) {
    entry *e = &t->cache[i];
    if (e->tex && e->hash == h && e->font == f && e->len == len && e->col.r == c.r &&
        e->col.g == c.g && e->col.b == c.b && !memcmp(e->s, s, len)) {
      e->used = t->frame;
      return e;
    }
    if (!e->tex || (victim->tex && e->used < victim->used))
      victim = e;
  }
  char stack[512];
  char *b = dup_n(s, len, stack, sizeof stack);
  if (!b)
    return NULL;
  SDL_Color col = {c.r, c.g, c.b, 255};
  SDL_Surface *surf = TTF_RenderUTF8_Blended(t->fonts[f], b, col);
  if (b != stack)
    free(b);
  if (!surf)
    return NULL;
  SDL_Texture *tex = SDL_CreateTextureFromSurface(t->r, surf);
  int w = surf->w, hh = surf->h;
  SDL_FreeSurface(surf);
  char *copy = malloc(len + 1);
  if (!tex || !copy) {
    if (tex)
      SDL_DestroyTexture(tex);
    free(copy);
    return NULL;
  }
  memcpy(copy, s, len);
  copy[len] = '\0';
  if (victim->tex)
    SDL_DestroyTexture(victim->tex);
  free(victim->s);
  *victim = (entry){.s = copy,
                    .len = len,
                    .hash = h,
                    .font = f,
                    .col = c,
                    .tex = tex,
                    .w = w,
                    .h = hh,
                    .used = t->frame};
  return victim;
}

int ml_ui_text_draw(ml_ui_text *t, ml_ui_font f, const char *s, size_t len, ml_rgb c, int x,
                    int y) {
  if (!len)
    return 0;
  entry *e = lookup(t, f, s, len, c);
  if (!e)
    return 0;
  SDL_Rect dst = {x, y, e->w, e->h};
  SDL_RenderCopy(t->r, e->tex, NULL, &dst);
  return e->w;
}

int ml_ui_text_puts(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, int x, int y) {
  return ml_ui_text_draw(t, f, s, strlen(s), c, x, y);
}

int ml_ui_text_draw_fit(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, int x, int y,
                        int max_w) {
  size_t len = strlen(s);
  if (ml_ui_text_width(t, f, s, len) <= max_w)
    return ml_ui_text_draw(t, f, s, len, c, x, y);
  static const char ell[] = "…";
  int ew = ml_ui_text_width(t, f, ell, sizeof ell - 1);
  size_t keep = len;
  while (keep > 0 && ml_ui_text_width(t, f, s, keep) + ew > max_w)
    keep = ml_utf8_prev(s, keep);
  char buf[512];
  if (keep + sizeof ell > sizeof buf)
    keep = ml_utf8_prev(s, sizeof buf - sizeof ell);
  memcpy(buf, s, keep);
  memcpy(buf + keep, ell, sizeof ell);
  return ml_ui_text_draw(t, f, buf, keep + sizeof ell - 1, c, x, y);
}

void ml_ui_text_end_frame(ml_ui_text *t) {
  t->frame++;
  for (size_t i = 0; i < CACHE_SIZE; i++) {
    entry *e = &t->cache[i];
    if (e->tex && t->frame - e->used > CACHE_KEEP_FRAMES) {
      SDL_DestroyTexture(e->tex);
      free(e->s);
      memset(e, 0, sizeof *e);
    }
  }
}
