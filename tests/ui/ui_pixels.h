/* Pixel checks for the window's tests: read a screenshot, look for a
 * string rendered with the same DejaVu font (a glyph template) or for a
 * colour. Shared by the render unit test and the two-window call test. */
#ifndef ML_TEST_UI_PIXELS_H
#define ML_TEST_UI_PIXELS_H

#include <stdbool.h>

#include <SDL.h>

typedef struct ml_px_font {
  const char *file; /* in /usr/share/fonts/truetype/dejavu */
  int pt;           /* logical size (text.h), multiplied by scale */
} ml_px_font;

#define ML_PX_BODY ((ml_px_font){"DejaVuSans.ttf", 16})
#define ML_PX_BOLD ((ml_px_font){"DejaVuSans-Bold.ttf", 16})
#define ML_PX_SMALL ((ml_px_font){"DejaVuSans.ttf", 13})
#define ML_PX_LARGE ((ml_px_font){"DejaVuSans-Bold.ttf", 30})
#define ML_PX_HUGE ((ml_px_font){"DejaVuSans-Bold.ttf", 44})

/* The 75 % colour bars (SMPTE, as videotestsrc draws them in its top two
 * thirds): white, yellow, cyan, green, magenta, red, blue. */
extern const SDL_Color ml_px_bars[7];

/* A width x height I420 frame of those bars (BT.601, limited range), in
 * caller-provided planes of the given strides. */
void ml_px_make_bars(int width, int height, unsigned char *y, int sy, unsigned char *u, int su,
                     unsigned char *v, int sv);

/* The pixel at (x, y) of an ARGB8888 surface. */
SDL_Color ml_px_get(SDL_Surface *s, int x, int y);

/* Whether text, drawn in font at scale with colour fg over bg, appears
 * somewhere in region of shot (ARGB8888); where, in *at. */
bool ml_px_find_text(SDL_Surface *shot, SDL_Rect region, ml_px_font font, float scale,
                     const char *text, SDL_Color fg, SDL_Color bg, SDL_Point *at);

/* Whether c is within tol of (r, g, b) on every channel. */
bool ml_px_near(SDL_Color c, int r, int g, int b, int tol);

/* Loads a screenshot (PNG) as ARGB8888 (NULL on failure). */
SDL_Surface *ml_px_load(const char *path);

#endif
