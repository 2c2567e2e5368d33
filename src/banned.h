/* banned.h — functions that are easy to misuse; using one is a compile error.
 * Use snprintf, strtoll with end checks, gmtime_r/localtime_r instead. (git's banned.h) */
#ifndef CK_BANNED_H
#define CK_BANNED_H
#define BANNED(fn) sorry_##fn##_is_banned
#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#endif
