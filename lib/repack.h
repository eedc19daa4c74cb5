/* repack.h - a model's matrices rearranged at load for the kernels. */
#ifndef WOOLLY_REPACK_H
#define WOOLLY_REPACK_H

#include "model.h"
#include "threadpool.h"

/* Repack the matrices of M that the kernels of this process read faster
 * repacked (wl_type_kernels' repack), with POOL's threads: IN_PLACE where M
 * owns its weights (read into memory, synthetic), else into
 * M->packed_store.  WOOLLY_ERR_NOMEM when there is no room for them. */
woolly_status wl_model_repack(woolly_model *m, wl_pool *pool, int in_place);

#endif
