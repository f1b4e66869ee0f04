package session

import (
	"sync"

	"github.com/firebreak-ir/firebreak/engine/runner"
)

// feed fans a run's step events out to any number of followers without
// ever making the run wait: the runner calls publish from its coordinator
// goroutine, which must not block on a slow reader.
type feed struct {
	mu     sync.Mutex
	latest []runner.StepEvent // the last event of each step and item, first seen first
	index  map[eventKey]int
	subs   map[chan runner.StepEvent]struct{}
	closed bool
}

type eventKey struct {
	step string
	item int
}

func newFeed() *feed {
	return &feed{index: map[eventKey]int{}, subs: map[chan runner.StepEvent]struct{}{}}
}

// publish records ev and hands it to every follower that has room; a
// follower without room is dropped (its channel closed): it has fallen
// behind, and following again gives it the current state.
func (f *feed) publish(ev runner.StepEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := eventKey{ev.Step, ev.Item}
	if i, ok := f.index[k]; ok {
		f.latest[i] = ev
	} else {
		f.index[k] = len(f.latest)
		f.latest = append(f.latest, ev)
	}
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// follow returns a channel that first gives the latest event of every
// step and item so far, then each new event, with room for buf more; and
// a function that stops following. The channel is closed when the run
// ends, when stop is called, or when the follower falls behind.
func (f *feed) follow(buf int) (<-chan runner.StepEvent, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan runner.StepEvent, len(f.latest)+max(buf, 1))
	for _, ev := range f.latest {
		ch <- ev
	}
	if f.closed {
		close(ch)
		return ch, func() {}
	}
	f.subs[ch] = struct{}{}
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// snapshot is the latest event of every step and item, first seen first.
func (f *feed) snapshot() []runner.StepEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]runner.StepEvent(nil), f.latest...)
}

// close ends every follow: the run is over.
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	clear(f.subs)
}
