/*
 * kernel/kmalloc.c - the small-object allocator.
 *
 * Power-of-two size classes from 16 to 2048 bytes.  Each slab is one page:
 * a header, then equal objects; a free object holds the next free object's
 * address.  Per class, slabs with free objects sit on a list; a slab that
 * becomes wholly free goes back to the page allocator unless it is the
 * class's only partial slab (so a steady alloc/free pair does not churn
 * pages).  One spinlock per class.
 */
#include "mem.h"
#include "spinlock.h"

#define SLAB_MAGIC 0x51ab51ab
#define NCLASS 8			/* 16 << 0 .. 16 << 7 */

struct slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t nfree;			/* class lock */
	uint16_t nobj;			/* constant */
	void *free;			/* first free object; class lock */
	struct slab *next, *prev;	/* partial list; class lock */
};

struct kclass {
	struct spinlock lock;
	struct slab *partial;		/* slabs with a free object; lock */
	uint32_t size;			/* constant */
};

#define KCLASS(i) { .lock = SPINLOCK_INIT(LOCKRANK_KMALLOC), .size = 16u << (i) }
static struct kclass classes[NCLASS] = {
	KCLASS(0), KCLASS(1), KCLASS(2), KCLASS(3),
	KCLASS(4), KCLASS(5), KCLASS(6), KCLASS(7),
};

static uint64_t slab_pages;	/* pages held by slabs; atomic */
static uint64_t live_objects;	/* allocated, not freed; atomic */

void kmalloc_counts(uint64_t *pages, uint64_t *objects)
{
	*pages = __atomic_load_n(&slab_pages, __ATOMIC_RELAXED);
	*objects = __atomic_load_n(&live_objects, __ATOMIC_RELAXED);
}

static inline uint64_t first_obj(uint32_t size)
{
	return ALIGN_UP(sizeof(struct slab), size < 64 ? size : 64);
}

static struct slab *slab_new(int cls)
{
	struct slab *s = page_alloc(1);
	uint32_t size = classes[cls].size;

	if (!s)
		return NULL;
	__atomic_fetch_add(&slab_pages, 1, __ATOMIC_RELAXED);
	uint64_t off = first_obj(size);
	s->magic = SLAB_MAGIC;
	s->cls = cls;
	s->nobj = (PAGE_SZ - off) / size;
	s->nfree = s->nobj;
	s->free = NULL;
	for (int i = s->nobj - 1; i >= 0; i--) {
		void **obj = (void **)((char *)s + off + (uint64_t)i * size);
		*obj = s->free;
		s->free = obj;
	}
	s->next = s->prev = NULL;
	return s;
}

static void list_del(struct kclass *c, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void list_push(struct kclass *c, struct slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial)
		c->partial->prev = s;
	c->partial = s;
}

void *kmalloc(size_t size)
{
	int cls = 0;

	BUG_ON_CMP(size, >, KMALLOC_MAX);
	while ((16u << cls) < size)
		cls++;
	struct kclass *c = &classes[cls];
	uint64_t f = spin_lock_irqsave(&c->lock);
	struct slab *s = c->partial;
	if (!s) {
		spin_unlock_irqrestore(&c->lock, f);
		s = slab_new(cls);	/* outside the lock: page_alloc locks */
		if (!s)
			return NULL;
		f = spin_lock_irqsave(&c->lock);
		list_push(c, s);
	}
	void **obj = s->free;
	s->free = *obj;
	if (--s->nfree == 0)
		list_del(c, s);
	spin_unlock_irqrestore(&c->lock, f);
	__atomic_fetch_add(&live_objects, 1, __ATOMIC_RELAXED);
	memset(obj, 0, c->size);
	return obj;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct slab *s = (struct slab *)ALIGN_DOWN((uint64_t)p, PAGE_SZ);
	if (s->magic != SLAB_MAGIC)
		panic("kfree(%p): not a kmalloc object", p);
	struct kclass *c = &classes[s->cls];
	BUG_ON(((uint64_t)p - (uint64_t)s - first_obj(c->size)) % c->size);

	__atomic_fetch_sub(&live_objects, 1, __ATOMIC_RELAXED);
	uint64_t f = spin_lock_irqsave(&c->lock);
	*(void **)p = s->free;
	s->free = p;
	s->nfree++;
	if (s->nfree == 1)
		list_push(c, s);
	bool release = s->nfree == s->nobj &&
		       (c->partial != s || s->next != NULL);
	if (release)
		list_del(c, s);
	spin_unlock_irqrestore(&c->lock, f);
	if (release) {
		s->magic = 0;
		__atomic_fetch_sub(&slab_pages, 1, __ATOMIC_RELAXED);
		page_free(s, 1);
	}
}
