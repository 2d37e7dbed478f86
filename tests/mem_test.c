/* tests/mem_test.c - the page allocator and kmalloc. */
#include "kernel/ktest.h"
#include "kernel/cpu.h"
#include "kernel/mem.h"
#include "kernel/smp.h"

/* Take every free page (chained through the pages), then give all back. */
KTEST(mem_all_pages_out_and_back)
{
	uint64_t before = mem_free_pages();
	void *head = NULL;
	uint64_t n = 0;
	void *p;

	while ((p = page_alloc(1))) {
		KT_ASSERTF(((uint64_t)p & 4095) == 0, "unaligned page %p", p);
		*(void **)p = head;
		head = p;
		n++;
	}
	uint64_t left = mem_free_pages();
	while (head) {
		void *next = *(void **)head;
		page_free(head, 1);
		head = next;
	}
	KT_EQ(left, 0);
	KT_EQ(n, before);
	KT_EQ(mem_free_pages(), before);
}

KTEST(mem_contiguous_runs)
{
	uint64_t before = mem_free_pages();
	uint8_t *a = page_alloc(5), *b = page_alloc(3);

	KT_ASSERT(a && b);
	KT_ASSERT(b + 3 * 4096 <= a || a + 5 * 4096 <= b);
	memset(a, 0xaa, 5 * 4096);
	memset(b, 0xbb, 3 * 4096);
	KT_EQ(a[5 * 4096 - 1], 0xaa);
	page_free(a, 5);
	page_free(b, 3);
	uint8_t *z = page_alloc_zeroed(2);
	KT_ASSERT(z);
	for (int i = 0; i < 2 * 4096; i++)
		KT_ASSERTF(z[i] == 0, "page_alloc_zeroed byte %d = %d", i, z[i]);
	page_free(z, 2);
	KT_EQ(mem_free_pages(), before);
}

/*
 * Every CPU allocates and frees runs of pages at once.  A shared ownership
 * bitmap is claimed with an atomic OR for each page handed out: a page
 * handed to two owners at the same time would find its bit already set.
 */
struct smp_pages {
	uint64_t *owned;		/* one bit per page */
	uint32_t dup, corrupt;		/* atomic counts of violations */
	uint32_t rounds;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool claim(struct smp_pages *sp, void *p, bool take)
{
	uint64_t pg = (uint64_t)p >> 12;
	uint64_t bit = 1ull << (pg % 64);
	uint64_t old = take ? __atomic_fetch_or(&sp->owned[pg / 64], bit,
						__ATOMIC_ACQ_REL)
			    : __atomic_fetch_and(&sp->owned[pg / 64], ~bit,
						 __ATOMIC_ACQ_REL);
	return take ? !(old & bit) : (old & bit);
}

static void smp_pages_worker(void *arg)
{
	struct smp_pages *sp = arg;
	uint32_t me = this_cpu_id();
	uint64_t seed = 0x9e3779b97f4a7c15ull * (me + 1);
	struct { uint64_t *p; uint32_t n; } held[32] = { { 0, 0 } };

	for (uint32_t r = 0; r < sp->rounds; r++) {
		uint32_t i = xorshift(&seed) % 32;
		if (held[i].p) {
			for (uint32_t k = 0; k < held[i].n; k++) {
				uint64_t *pg = held[i].p + k * 512;
				if (pg[0] != ((uint64_t)me << 32 | k) ||
				    pg[511] != (uint64_t)pg)
					__atomic_fetch_add(&sp->corrupt, 1,
							   __ATOMIC_RELAXED);
				if (!claim(sp, pg, false))
					__atomic_fetch_add(&sp->dup, 1,
							   __ATOMIC_RELAXED);
			}
			page_free(held[i].p, held[i].n);
			held[i].p = NULL;
		} else {
			uint32_t n = 1 + xorshift(&seed) % 4;
			uint64_t *p = page_alloc(n);
			if (!p)
				continue;
			for (uint32_t k = 0; k < n; k++) {
				uint64_t *pg = p + k * 512;
				if (!claim(sp, pg, true))
					__atomic_fetch_add(&sp->dup, 1,
							   __ATOMIC_RELAXED);
				pg[0] = (uint64_t)me << 32 | k;
				pg[511] = (uint64_t)pg;
			}
			held[i].p = p;
			held[i].n = n;
		}
	}
	for (int i = 0; i < 32; i++)
		if (held[i].p) {
			for (uint32_t k = 0; k < held[i].n; k++)
				claim(sp, held[i].p + k * 512, false);
			page_free(held[i].p, held[i].n);
		}
}

KTEST(mem_pages_smp_no_double_handout)
{
	uint64_t before = mem_free_pages();
	/* Bitmap over all of RAM the allocator could hand out (< 64 GiB). */
	uint64_t bytes = (64ull << 30) / 4096 / 8;
	struct smp_pages sp = { .rounds = 20000 };

	sp.owned = page_alloc_zeroed(bytes / 4096);
	KT_ASSERT(sp.owned);
	smp_run_all(smp_pages_worker, &sp);
	page_free(sp.owned, bytes / 4096);
	KT_EQ(sp.dup, 0);
	KT_EQ(sp.corrupt, 0);
	KT_EQ(mem_free_pages(), before);
}

KTEST(mem_kmalloc_classes)
{
	uint64_t before = mem_free_pages();
	void *objs[600];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 600; i++) {
			size_t sz = 1 + (i * 37) % KMALLOC_MAX;
			uint8_t *p = kmalloc(sz);
			KT_ASSERT(p);
			KT_ASSERTF(((uint64_t)p & 15) == 0, "kmalloc(%zu) = %p", sz, p);
			for (size_t k = 0; k < sz; k++)
				KT_ASSERTF(p[k] == 0, "kmalloc not zeroed");
			memset(p, i & 0xff, sz);
			objs[i] = p;
		}
		for (int i = 0; i < 600; i++) {
			size_t sz = 1 + (i * 37) % KMALLOC_MAX;
			uint8_t *p = objs[i];
			KT_ASSERTF(p[0] == (i & 0xff) && p[sz - 1] == (i & 0xff),
				   "object %d overwritten", i);
		}
		for (int i = 0; i < 600; i++)
			kfree(objs[i]);
	}
	/* Each class may keep one empty slab cached. */
	KT_CMP(before - mem_free_pages(), <=, 8);
}
