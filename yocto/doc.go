// Package yocto holds no code: its tests prove meta-lockd, the Yocto layer
// beside it. They check the layer's metadata, compile the U-Boot boot
// script with mkimage and run it unchanged in real U-Boot under QEMU
// across scripted power cycles, and cross-build lockd for arm64 with cgo
// and -buildmode=pie as the recipe does. yocto/cmd/gomodinc generates the
// recipe's Go module list.
package yocto
