package broker

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// writeQueue bounds the writes waiting for the writer; a sender
	// waits for room past it.
	writeQueue = 1024
	// perPipeline bounds one pipeline, so that one batch's replies stay
	// small.
	perPipeline = 256
)

// write is one unit of the writer's work: commands to add to a pipeline,
// or a read of a room's stream position, and, when the caller waits for
// the replies, a channel closed once the pipeline has run.
type write struct {
	commands func(p goredis.Pipeliner)
	position *positionRead
	done     chan struct{}
}

// positionRead asks for room's stream position. The reads of one room in
// one pipeline share one script run: each is then answered with a
// position taken after it was asked for, which is all a reader needs (a
// join registers its member and subscribes to the room before it asks, so
// every message past that position reaches the member live).
type positionRead struct {
	room  string
	reply *goredis.Cmd
}

// queue hands w to the writer, waiting while the queue is full.
func (r *Redis) queue(ctx context.Context, w write) error {
	select {
	case r.writes <- w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.ctx.Done():
		return ErrUnavailable
	}
}

// write runs commands in the writer's next pipeline and waits for it. The
// commands' own results say whether each succeeded.
func (r *Redis) write(ctx context.Context, commands func(p goredis.Pipeliner)) error {
	return r.await(ctx, write{commands: commands, done: make(chan struct{})})
}

// await queues w and waits for its pipeline to run.
func (r *Redis) await(ctx context.Context, w write) error {
	if err := r.queue(ctx, w); err != nil {
		return err
	}
	return r.awaitDone(w)
}

// awaitDone waits for the pipeline of a queued w to run.
func (r *Redis) awaitDone(w write) error {
	select {
	case <-w.done:
		return nil
	case <-r.ctx.Done():
		return ErrUnavailable
	}
}

// writeLoop sends what has queued since the last pipeline as the next
// one. One pipeline runs at a time, so Redis executes writes in the order
// they were queued.
func (r *Redis) writeLoop() {
	defer r.done.Done()
	batch := make([]write, 0, perPipeline)
	positions := make(map[string]*goredis.Cmd)
	for {
		select {
		case <-r.ctx.Done():
			return
		case w := <-r.writes:
			batch = append(batch, w)
		}
	drain:
		for len(batch) < perPipeline {
			select {
			case w := <-r.writes:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		// Failures are in each command's result; an outage is the
		// receiver's to notice and log.
		cmds, _ := r.raw.Pipelined(r.ctx, func(p goredis.Pipeliner) error {
			for _, w := range batch {
				if read := w.position; read != nil {
					if read.reply = positions[read.room]; read.reply == nil {
						read.reply = r.recoverCmd(p, read.room, "", 0)
						positions[read.room] = read.reply
					}
					continue
				}
				w.commands(p)
			}
			return nil
		})
		clear(positions)
		r.rerunUnknownScripts(cmds)
		for i, w := range batch {
			if w.done != nil {
				close(w.done)
			}
			batch[i] = write{}
		}
		batch = batch[:0]
	}
}
