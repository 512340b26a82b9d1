# lockd-bundle.bbclass: the image's root file system as a signed lockd
# update bundle, `lockd bundle create` run from lockd-native.
#
# In an image recipe:
#
#   inherit lockd-bundle
#   IMAGE_FSTYPES += "lockdb"
#
# and in local.conf or the distro, never in a layer:
#
#   LOCKD_BUNDLE_KEY = "/secure/path/release.key"   # from `lockd bundle keygen`
#   LOCKD_VERSION = "1.4.0"                         # semver; lockd refuses downgrades
#   LOCKD_COMPATIBLE = "acme,lock-rev2"             # this hardware
#
# The bundle is ${IMAGE_NAME}.lockdb next to the other images. The public
# half, LOCKD_BUNDLE_KEY with .key replaced by .pub, is installed in the
# image as /etc/lockd/keys/release.pub so the image trusts its own updates.
# The private key is read only by do_image_lockdb; it never enters the
# image, the sstate cache or the layer.

LOCKD_BUNDLE_KEY ??= ""
LOCKD_BUNDLE_PUBKEY ??= "${@d.getVar('LOCKD_BUNDLE_KEY')[:-len('.key')] + '.pub' if d.getVar('LOCKD_BUNDLE_KEY').endswith('.key') else ''}"
LOCKD_VERSION ??= ""
LOCKD_COMPATIBLE ??= ""
# The root file system type the bundle carries: what the updater writes
# to the inactive slot.
LOCKD_BUNDLE_FSTYPE ??= "ext4"
LOCKD_BUNDLE_ARGS ??= ""

IMAGE_TYPES += "lockdb"
IMAGE_TYPEDEP:lockdb = "${LOCKD_BUNDLE_FSTYPE}"
do_image_lockdb[depends] += "lockd-native:do_populate_sysroot"
# Not the key's contents: a new key with the same path must rebuild too.
do_image_lockdb[vardeps] += "LOCKD_BUNDLE_KEY LOCKD_VERSION LOCKD_COMPATIBLE LOCKD_BUNDLE_ARGS"
do_image_lockdb[file-checksums] += "${@'%s:True' % d.getVar('LOCKD_BUNDLE_KEY') if d.getVar('LOCKD_BUNDLE_KEY') else ''}"

lockd_bundle_check() {
    if [ -z "${LOCKD_BUNDLE_KEY}" ]; then
        bbfatal "lockd-bundle: LOCKD_BUNDLE_KEY is not set. Set it in local.conf to the private key from 'lockd bundle keygen -o NAME' (NAME.key); never put a key in a layer."
    fi
    case "${LOCKD_BUNDLE_KEY}" in
    ${LAYERDIR_lockd}/*|${TOPDIR}/*)
        bbfatal "lockd-bundle: LOCKD_BUNDLE_KEY ${LOCKD_BUNDLE_KEY} is inside a layer or the build directory; keep signing keys outside both." ;;
    esac
    if [ ! -r "${LOCKD_BUNDLE_KEY}" ]; then
        bbfatal "lockd-bundle: cannot read LOCKD_BUNDLE_KEY ${LOCKD_BUNDLE_KEY}"
    fi
    if [ -z "${LOCKD_VERSION}" ]; then
        bbfatal "lockd-bundle: LOCKD_VERSION is not set (MAJOR.MINOR.PATCH; lockd refuses a bundle not newer than the running one)"
    fi
    if [ -z "${LOCKD_COMPATIBLE}" ]; then
        bbfatal "lockd-bundle: LOCKD_COMPATIBLE is not set (the hardware this image is for, as in lockd.toml [update] compatible)"
    fi
}

# Since nanbield (4.3) IMAGE_NAME already ends in IMAGE_NAME_SUFFIX
# (".rootfs"): the ext4 image is ${IMAGE_NAME}.ext4, and image.bbclass
# links ${IMAGE_NAME}.lockdb to ${IMAGE_LINK_NAME}.lockdb.
IMAGE_CMD:lockdb() {
    lockd_bundle_check
    lockd bundle create \
        --key "${LOCKD_BUNDLE_KEY}" \
        --compatible "${LOCKD_COMPATIBLE}" \
        --version "${LOCKD_VERSION}" \
        ${LOCKD_BUNDLE_ARGS} \
        ${IMGDEPLOYDIR}/${IMAGE_NAME}.${LOCKD_BUNDLE_FSTYPE} \
        -o ${IMGDEPLOYDIR}/${IMAGE_NAME}.lockdb
}

# The image trusts bundles signed with LOCKD_BUNDLE_KEY, and says which
# hardware it is (lockd.toml [update] compatible = LOCKD_COMPATIBLE).
lockd_bundle_rootfs() {
    if echo "${IMAGE_FSTYPES}" | grep -qw lockdb; then
        lockd_bundle_check
    fi
    if [ -n "${LOCKD_COMPATIBLE}" ] && [ -f ${IMAGE_ROOTFS}${sysconfdir}/lockd/lockd.toml ]; then
        sed -i -e 's/^compatible = ".*"/compatible = "${LOCKD_COMPATIBLE}"/' ${IMAGE_ROOTFS}${sysconfdir}/lockd/lockd.toml
        grep -q '^compatible = "${LOCKD_COMPATIBLE}"$' ${IMAGE_ROOTFS}${sysconfdir}/lockd/lockd.toml || \
            bbfatal "lockd-bundle: could not set compatible in ${sysconfdir}/lockd/lockd.toml"
    fi
    if [ -n "${LOCKD_BUNDLE_PUBKEY}" ]; then
        [ -r "${LOCKD_BUNDLE_PUBKEY}" ] || bbfatal "lockd-bundle: no public key ${LOCKD_BUNDLE_PUBKEY} beside LOCKD_BUNDLE_KEY"
        install -d ${IMAGE_ROOTFS}${sysconfdir}/lockd/keys
        install -m 0644 "${LOCKD_BUNDLE_PUBKEY}" ${IMAGE_ROOTFS}${sysconfdir}/lockd/keys/release.pub
    fi
}
ROOTFS_POSTPROCESS_COMMAND += "lockd_bundle_rootfs"
# The public key's contents, not only its path: a new release key at the
# same path re-signs the bundle (do_image_lockdb's file-checksums above);
# without this do_rootfs would not run again, the bundle would carry a
# rootfs trusting only the old key, and a lock updated to it would refuse
# every bundle signed with the new one.
do_rootfs[file-checksums] += "${@'%s:True' % d.getVar('LOCKD_BUNDLE_PUBKEY') if d.getVar('LOCKD_BUNDLE_PUBKEY') else ''}"
