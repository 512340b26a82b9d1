# lockd's A/B boot script replaces meta-raspberrypi's boot.cmd.in; the
# recipe's do_compile substitutes @@KERNEL_IMAGETYPE@@ and @@KERNEL_BOOTCMD@@
# and runs mkimage as before. It is used only with RPI_USE_U_BOOT = "1" in
# local.conf (the machine boots U-Boot instead of the kernel, and U-Boot
# runs boot.scr); lockd-image.bb sets it for its own builds only, since
# IMAGE_BOOT_FILES is decided by the machine configuration, so set it in
# local.conf as well.
FILESEXTRAPATHS:prepend := "${THISDIR}/files:"
