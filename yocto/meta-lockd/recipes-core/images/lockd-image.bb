SUMMARY = "lockd keypad smart lock: A/B image with a signed update bundle"
DESCRIPTION = "A systemd image running lockd, laid out for A/B updates \
(files/wic/lockd-ab.wks): a FAT boot partition with the Pi firmware, U-Boot \
and lockd's boot script, two root file-system slots and a data partition \
for /var/lib/lockd."
# The layer is part of lockd, and under its licence.
LICENSE = "Apache-2.0"

inherit core-image lockd-bundle

# The U-Boot boot script reads the kernel from /boot of the slot it boots
# (kernel-image), so kernel and modules always come from the same slot.
IMAGE_INSTALL = " \
    packagegroup-core-boot \
    lockd \
    lockd-mounts \
    lockd-fw-env \
    libubootenv-bin \
    kernel-image \
    ${CORE_IMAGE_EXTRA_INSTALL} \
"
# The slot is replaced whole by an update: nothing may write to it. State
# lives on the data partition; /etc is the image's.
IMAGE_FEATURES += "read-only-rootfs"

# The card image, and the root file system the bundle carries.
IMAGE_FSTYPES = "wic.bz2 wic.bmap ${LOCKD_BUNDLE_FSTYPE}"
WKS_FILE = "lockd-ab.wks"
# The kickstart lives in the layer's files/wic/, which wic does not search
# by itself (it looks in each layer's wic/).
WKS_SEARCH_PATH:prepend = "${LAYERDIR_lockd}/files/wic:"
WKS_FILE_DEPENDS:append = " dosfstools-native mtools-native e2fsprogs-native"

# The updater's signed bundle of this image: once LOCKD_BUNDLE_KEY,
# LOCKD_VERSION and LOCKD_COMPATIBLE are set in local.conf, add it there
# too (lockd-bundle.bbclass). IMAGE_FSTYPES is assigned above, after
# local.conf is read, so a plain += in local.conf would be lost:
#   IMAGE_FSTYPES:append:pn-lockd-image = " lockdb"

# Only the Raspberry Pi boots this image as it is: the boot partition
# (wic's bootimg-partition) holds the machine's IMAGE_BOOT_FILES, which
# only meta-raspberrypi with RPI_USE_U_BOOT = "1" fills with U-Boot and
# boot.scr, and the A/B boot script exists only as its rpi-u-boot-scr
# (dynamic-layers/raspberrypi). Any other machine would get a card with an
# empty boot partition. Another board needs its own boot script honouring
# the A/B contract (lockd's docs/DESIGN.md, "Updates") and IMAGE_BOOT_FILES
# that carry U-Boot and it; its bbappend then widens COMPATIBLE_MACHINE.
# Every Pi machine of meta-raspberrypi has SOC_FAMILY "rpi", which is in
# MACHINEOVERRIDES; its own Pi-only recipes use the same expression.
COMPATIBLE_MACHINE = "^rpi$"

# RPI_USE_U_BOOT is a machine setting (it decides IMAGE_BOOT_FILES), so it
# belongs in local.conf and an image recipe cannot set it; without it the
# firmware boots the kernel straight from the boot partition, the boot
# script never runs, and no update could ever be tried or fall back. Only
# on a Pi: a board that a bbappend adds boots its own way.
python () {
    if 'rpi' in (d.getVar('MACHINEOVERRIDES') or '').split(':') and d.getVar('RPI_USE_U_BOOT') != '1':
        raise bb.parse.SkipRecipe('lockd-image boots through U-Boot and its A/B boot script: set RPI_USE_U_BOOT = "1" in local.conf')
}
