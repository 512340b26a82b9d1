package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The GPIO character device's v2 uAPI (linux/gpio.h), the few calls the
// guest's board needs: the watch on line info, and a line request (for
// `e2e-guest hold`). lockd itself uses periph.io's gpioioctl.

// lineInfo is struct gpio_v2_line_info.
type lineInfo struct {
	Name     [32]byte
	Consumer [32]byte
	Offset   uint32
	NumAttrs uint32
	Flags    uint64
	Attrs    [10][16]byte
	_        [4]uint32
}

// lineInfoChanged is struct gpio_v2_line_info_changed.
type lineInfoChanged struct {
	Info      lineInfo
	Timestamp uint64
	Event     uint32
	_         [5]uint32
}

// lineRequest is struct gpio_v2_line_request.
type lineRequest struct {
	Offsets    [64]uint32
	Consumer   [32]byte
	Flags      uint64
	NumAttrs   uint32
	_          [5]uint32
	Attrs      [10][24]byte
	NumLines   uint32
	BufferSize uint32
	_          [5]uint32
	Fd         int32
}

// Line flags and info-changed events.
const (
	flagInput    = 1 << 2
	flagPullUp   = 1 << 8
	flagPullDown = 1 << 9

	changedRequested = 1
	changedReleased  = 2
	changedConfig    = 3
)

// _IOWR(0xB4, nr, size)
func iowr(nr, size uintptr) uintptr { return 3<<30 | size<<16 | 0xB4<<8 | nr }

var (
	watchLineInfo    = iowr(0x06, unsafe.Sizeof(lineInfo{}))
	getLine          = iowr(0x07, unsafe.Sizeof(lineRequest{}))
	lineInfoEventLen = int(unsafe.Sizeof(lineInfoChanged{}))
)

func ioctl(fd uintptr, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// watch asks the kernel for info-changed events of line offset on chip.
func watch(chip *os.File, offset uint32) error {
	li := lineInfo{Offset: offset}
	if err := ioctl(chip.Fd(), watchLineInfo, unsafe.Pointer(&li)); err != nil {
		return fmt.Errorf("e2e-guest: watch line %d: %w", offset, err)
	}
	return nil
}

// readChanged reads one info-changed event from chip.
func readChanged(chip *os.File) (lineInfoChanged, error) {
	var ev lineInfoChanged
	buf := make([]byte, lineInfoEventLen)
	if _, err := chip.Read(buf); err != nil {
		return ev, err
	}
	err := binary.Read(bytes.NewReader(buf), binary.NativeEndian, &ev)
	return ev, err
}

// requestInput requests line offset of chip as an input for consumer and
// returns the request's descriptor: the line is held until it is closed.
func requestInput(chip *os.File, offset uint32, consumer string) (int, error) {
	req := lineRequest{NumLines: 1, Flags: flagInput}
	req.Offsets[0] = offset
	copy(req.Consumer[:len(req.Consumer)-1], consumer)
	if err := ioctl(chip.Fd(), getLine, unsafe.Pointer(&req)); err != nil {
		return -1, err
	}
	return int(req.Fd), nil
}
