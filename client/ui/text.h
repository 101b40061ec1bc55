/* mentorlink UI — text: DejaVu fonts through SDL2_ttf, drawn from a small
 * cache of textures (one per font, colour and string, evicted when unused
 * for a few frames).
 *
 * Sizes are in logical pixels times the HiDPI scale (ml_ui_text_set_scale
 * reopens the fonts when it changes). Strings are UTF-8 with explicit
 * lengths. Threads: the renderer's (UI) thread only. Errors: ml_ui_text_new
 * returns -1 with a message in err when a font does not open.
 */
#ifndef ML_UI_TEXT_H
#define ML_UI_TEXT_H

#include <stddef.h>

#include <SDL.h>

#include "palette.h"

#define ML_UI_FONT_DIR "/usr/share/fonts/truetype/dejavu"

typedef enum ml_ui_font {
  ML_FONT_BODY,  /* DejaVu Sans 16 */
  ML_FONT_BOLD,  /* DejaVu Sans Bold 16 */
  ML_FONT_SMALL, /* DejaVu Sans 13 */
  ML_FONT_TITLE, /* DejaVu Sans Bold 21 */
  ML_FONT_LARGE, /* DejaVu Sans Bold 30: SAS words */
  ML_FONT_MONO,  /* DejaVu Sans Mono 18: safety number */
  ML_FONT_HUGE,  /* DejaVu Sans Bold 44: avatar initials */
  ML_FONT_COUNT
} ml_ui_font;

typedef struct ml_ui_text ml_ui_text;

int ml_ui_text_new(ml_ui_text **out, SDL_Renderer *r, const char *font_dir, float scale, char *err,
                   size_t err_len);
/* Reopens the fonts at a new scale (no-op when unchanged); -1 on failure
 * (the old fonts stay). */
int ml_ui_text_set_scale(ml_ui_text *t, float scale);
void ml_ui_text_free(ml_ui_text *t);

int ml_ui_text_width(ml_ui_text *t, ml_ui_font f, const char *s, size_t len);
int ml_ui_text_line_height(ml_ui_text *t, ml_ui_font f);
/* Draws s[0..len) with its top-left at (x, y); returns its width. */
int ml_ui_text_draw(ml_ui_text *t, ml_ui_font f, const char *s, size_t len, ml_rgb c, int x, int y);
/* The same with a NUL-terminated string. */
int ml_ui_text_puts(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, int x, int y);
/* s shortened with "…" to fit max_w, drawn; returns the width drawn. */
int ml_ui_text_draw_fit(ml_ui_text *t, ml_ui_font f, const char *s, ml_rgb c, int x, int y,
                        int max_w);
/* Call once per presented frame: drops textures unused for a while. */
void ml_ui_text_end_frame(ml_ui_text *t);

#endif /* ML_UI_TEXT_H */
