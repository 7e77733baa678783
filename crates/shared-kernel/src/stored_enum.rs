//! One macro for enums stored and sent by name: [`stored_enum!`](crate::stored_enum).
//!
//! Each variant is declared with its spelling, so the spelling, `as_str`,
//! `parse`, `Display` and `ALL` cannot drift apart:
//!
//! ```
//! shared_kernel::stored_enum! {
//!     /// Where a parcel is.
//!     #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//!     pub enum ParcelState {
//!         /// On its way.
//!         Sent = "sent",
//!         /// Arrived.
//!         Delivered = "delivered",
//!     }
//! }
//!
//! assert_eq!(ParcelState::Sent.as_str(), "sent");
//! assert_eq!(ParcelState::parse("delivered"), Some(ParcelState::Delivered));
//! assert_eq!(ParcelState::parse("Delivered"), None, "exactly as spelled");
//! assert_eq!(ParcelState::Delivered.to_string(), "delivered");
//! assert_eq!(ParcelState::ALL, [ParcelState::Sent, ParcelState::Delivered]);
//! ```
//!
//! With `: ErrorType` after the name (a unit struct), `parse` returns
//! `Result<Self, ErrorType>` and `FromStr` is implemented too:
//!
//! ```
//! #[derive(Debug, PartialEq, Eq)]
//! pub struct SizeError;
//!
//! shared_kernel::stored_enum! {
//!     /// A size.
//!     #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//!     pub enum Size: SizeError {
//!         /// Small.
//!         Small = "S",
//!         /// Large.
//!         Large = "L",
//!     }
//! }
//!
//! assert_eq!(Size::parse("L"), Ok(Size::Large));
//! assert_eq!("M".parse::<Size>(), Err(SizeError));
//! ```

/// Declares a `Copy` enum whose variants are stored and sent by name, with
/// `ALL` (declaration order), `as_str`, `parse` (exactly the declared
/// spellings; `Option`, or `Result` with `: ErrorType`) and `Display`. See
/// the [module](crate::stored_enum) for examples.
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal ),+ $(,)?
        }
    ) => {
        $crate::stored_enum!(@declare $(#[$meta])* $vis $name { $( $(#[$vmeta])* $variant = $spelling ),+ });

        impl $name {
            /// The value spelled exactly `raw` in storage or on the wire, if any.
            pub fn parse(raw: &str) -> ::core::option::Option<Self> {
                match raw {
                    $( $spelling => ::core::option::Option::Some(Self::$variant), )+
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $error:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal ),+ $(,)?
        }
    ) => {
        $crate::stored_enum!(@declare $(#[$meta])* $vis $name { $( $(#[$vmeta])* $variant = $spelling ),+ });

        impl $name {
            /// The value spelled exactly `raw` in storage or on the wire.
            pub fn parse(raw: &str) -> ::core::result::Result<Self, $error> {
                match raw {
                    $( $spelling => ::core::result::Result::Ok(Self::$variant), )+
                    _ => ::core::result::Result::Err($error),
                }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $error;

            fn from_str(raw: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }
    };
    (@declare $(#[$meta:meta])* $vis:vis $name:ident {
        $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal ),+
    }) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; $crate::stored_enum!(@count $($variant)+)] = [$(Self::$variant),+];

            /// The stable name used in storage and on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $spelling, )+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@count) => { 0usize };
    (@count $head:ident $($tail:ident)*) => { 1usize + $crate::stored_enum!(@count $($tail)*) };
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, Eq)]
    struct LightError;

    crate::stored_enum! {
        /// A test enum.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Light: LightError {
            /// Red.
            Red = "RED",
            /// Green.
            Green = "green",
        }
    }

    #[test]
    fn every_value_round_trips_through_its_spelling_and_nothing_else_parses() {
        for light in Light::ALL {
            assert_eq!(Light::parse(light.as_str()), Ok(light));
            assert_eq!(light.to_string(), light.as_str());
        }
        assert_eq!(Light::ALL.len(), 2);
        assert_eq!("red".parse::<Light>(), Err(LightError));
        assert_eq!(Light::parse(""), Err(LightError));
    }
}
