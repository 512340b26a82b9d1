// Package brokertest fakes what package bridge asks of package broker: a
// connection that records what is published, as the broker would keep
// it (the last retained payload per topic) and in order.
package brokertest

import (
	"context"
	"sync"
)

// Published is one recorded publication.
type Published struct {
	Topic   string
	Payload string
	Retain  bool
}

// Publisher records publications. Set Err to make them fail (a lost
// connection).
type Publisher struct {
	mu  sync.Mutex
	log []Published
	// Err is what Publish returns; nothing is recorded while it is set.
	Err error
	// Notify, when set, gets a value after every Publish call.
	Notify chan struct{}
}

// Publish records the message unless Err is set.
func (p *Publisher) Publish(ctx context.Context, topic string, payload []byte, retain bool) error {
	p.mu.Lock()
	err := p.Err
	if err == nil {
		p.log = append(p.log, Published{topic, string(payload), retain})
	}
	n := p.Notify
	p.mu.Unlock()
	if n != nil {
		select {
		case n <- struct{}{}:
		default:
		}
	}
	return err
}

// All returns every publication so far, in order.
func (p *Publisher) All() []Published {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Published(nil), p.log...)
}

// Last returns the last payload published on topic and whether there
// was one.
func (p *Publisher) Last(topic string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.log) - 1; i >= 0; i-- {
		if p.log[i].Topic == topic {
			return p.log[i].Payload, true
		}
	}
	return "", false
}

// Reset forgets what was recorded.
func (p *Publisher) Reset() {
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}
