# lockd's A/B boot script replaces meta-raspberrypi's boot.cmd.in; the
# recipe's do_compile substitutes @@KERNEL_IMAGETYPE@@ and @@KERNEL_BOOTCMD@@
# and runs mkimage as before. The Pi runs it only with RPI_USE_U_BOOT = "1"
# in local.conf: that machine setting makes the firmware start U-Boot, and
# puts u-boot.bin and boot.scr into IMAGE_BOOT_FILES. No recipe can set it
# (IMAGE_BOOT_FILES comes from the machine configuration), which is why
# lockd-image.bb refuses to build on a Pi without it.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
