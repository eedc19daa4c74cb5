# woolly.m4 -- configure helpers for woolly.

# WOOLLY_ADD_CFLAG_IF_WORKS(VARIABLE, FLAG)
# Append FLAG to VARIABLE when the C compiler accepts it without a warning.
AC_DEFUN([WOOLLY_ADD_CFLAG_IF_WORKS], [
  AS_VAR_PUSHDEF([cache], [woolly_cv_cflag_$2])
  AC_CACHE_CHECK([whether $CC accepts $2], [cache], [
    save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $2"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[]], [[return 0;]])],
                      [AS_VAR_SET([cache], [yes])], [AS_VAR_SET([cache], [no])])
    CFLAGS=$save_CFLAGS])
  AS_VAR_IF([cache], [yes], [$1="$$1 $2"])
  AS_VAR_POPDEF([cache])
])

# WOOLLY_PTHREAD
# Find the flags for POSIX threads; sets PTHREAD_CFLAGS and PTHREAD_LIBS.
AC_DEFUN([WOOLLY_PTHREAD], [
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  save_CFLAGS=$CFLAGS; save_LIBS=$LIBS
  CFLAGS="$CFLAGS $PTHREAD_CFLAGS"; LIBS="$LIBS $PTHREAD_LIBS"
  AC_MSG_CHECKING([whether POSIX threads work with -pthread])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <pthread.h>
static void *f(void *p) { return p; }]], [[pthread_t t; pthread_create(&t, 0, f, 0); pthread_join(t, 0);]])],
    [AC_MSG_RESULT([yes])], [AC_MSG_RESULT([no]); AC_MSG_ERROR([POSIX threads are required])])
  CFLAGS=$save_CFLAGS; LIBS=$save_LIBS
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])

# WOOLLY_ISA(NAME, VAR, ARCH, FLAGS, PROLOGUE, BODY)
# Offer --enable-NAME=auto|yes|no.  When the host is ARCH (x86 or arm64) and
# the compiler compiles and links BODY with FLAGS, define HAVE_VAR, substitute
# VAR_CFLAGS and set the automake conditional HAVE_VAR.  `yes' fails when the
# compiler cannot; `auto' builds what it can.
AC_DEFUN([WOOLLY_ISA], [
  AC_ARG_ENABLE([$1],
    [AS_HELP_STRING([--enable-$1@<:@=auto|yes|no@:>@], [build the $2 kernels @<:@default=auto@:>@])],
    [], [enable_$1=auto])
  AS_CASE([$enable_$1], [auto|yes|no], [],
    [AC_MSG_ERROR([--enable-$1 takes auto, yes or no, not '$enable_$1'])])
  woolly_have_$1=no
  AS_IF([test "x$enable_$1" != xno && test "x$woolly_$3" = xyes], [
    AC_MSG_CHECKING([whether $CC can build $2 kernels with '$4'])
    save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS $4"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([$5], [$6])], [woolly_have_$1=yes])
    CFLAGS=$save_CFLAGS
    AC_MSG_RESULT([$woolly_have_$1])
  ])
  AS_IF([test "x$enable_$1" = xyes && test "x$woolly_have_$1" != xyes],
    [AC_MSG_ERROR([--enable-$1=yes, but $CC cannot build $2 code for $host_cpu])])
  AS_IF([test "x$woolly_have_$1" = xyes], [
    AC_DEFINE([HAVE_$2], [1], [Define to 1 to build the $2 kernels.])
    woolly_isa_summary="$woolly_isa_summary $1"
    $2_CFLAGS="$4"
  ])
  AC_SUBST([$2_CFLAGS])
  AM_CONDITIONAL([HAVE_$2], [test "x$woolly_have_$1" = xyes])
])
