/*
 * sched/lockosthread.c - wiring a goroutine to its M (Go's LockOSThread).
 *
 * Two counts on the M: lockedExt, the nesting of the public
 * go_lock_os_thread(), and lockedInt, the runtime's own uses.  The G and
 * M are wired while either is non-zero.  While wired, the M runs nothing
 * but its G: when the G blocks, the M gives its P away and sleeps
 * (stoplockedm); when another M finds the G runnable, it hands its own P
 * to the G's M and sleeps instead (startlockedm).  A G that exits while
 * wired takes its M down with it (goexit0 -> mexit).
 */
#include "sched/proc.h"
#include "sched/lock.h"

static void dolockOSThread(void)
{
	struct g *gp = getg();

	gp->m->lockedg = gp;
	gp->lockedm = gp->m;
}

static void dounlockOSThread(void)
{
	struct g *gp = getg();

	if (gp->m->lockedInt || gp->m->lockedExt)
		return;
	gp->m->lockedg = NULL;
	gp->lockedm = NULL;
}

void LockOSThread(void)
{
	struct g *gp = getg();

	gp->m->lockedExt++;
	if (gp->m->lockedExt == 0) {
		gp->m->lockedExt--;
		throw("LockOSThread nesting overflow");
	}
	dolockOSThread();
}

/* A no-op when not locked (as Go's). */
void UnlockOSThread(void)
{
	struct g *gp = getg();

	if (gp->m->lockedExt == 0)
		return;
	gp->m->lockedExt--;
	dounlockOSThread();
}

void lockOSThread(void)
{
	getg()->m->lockedInt++;
	dolockOSThread();
}

void unlockOSThread(void)
{
	struct g *gp = getg();

	if (gp->m->lockedInt == 0)
		throw("runtime: internal error: misuse of lockOSThread/"
		      "unlockOSThread");
	gp->m->lockedInt--;
	dounlockOSThread();
}

/**
 * stoplockedm - the M's locked G blocked (or is about to be scheduled
 * elsewhere): give the P away and sleep until startlockedm hands the G
 * back with a P.  On g0.
 */
void stoplockedm(void)
{
	struct m *mp = getg()->m;

	assert_on_g0();
	if (!mp->lockedg || mp->lockedg->lockedm != mp)
		throw("stoplockedm: inconsistent locking");
	if (mp->p)
		handoffp(releasep());
	lock(&sched.lock);
	sched.nmidlelocked++;
	checkdead();
	unlock(&sched.lock);
	notesleep(&mp->park);
	noteclear(&mp->park);
	if (readgstatus(mp->lockedg) != _Grunnable)
		throwf("stoplockedm: goroutine %ld not runnable (status %u)",
		       mp->lockedg->goid, readgstatus(mp->lockedg));
	acquirep(mp->nextp);
	mp->nextp = NULL;
}

/**
 * startlockedm - @gp is runnable but locked to another M: hand it this
 * M's P and wake it, then stop this M.  On g0.
 */
void startlockedm(struct g *gp)
{
	struct m *mp = gp->lockedm;

	assert_on_g0();
	if (mp == getg()->m)
		throw("startlockedm: locked to me");
	if (mp->nextp)
		throw("startlockedm: M has a P");
	lock(&sched.lock);
	sched.nmidlelocked--;
	unlock(&sched.lock);
	mp->nextp = releasep();
	notewakeup(&mp->park);
	stopm();
}
